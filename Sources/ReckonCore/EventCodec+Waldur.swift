/// Encoding of the Waldur-side events (kinds 3–8). Same rules as ``EventCodec``: one kind byte,
/// one version byte, strict decoding.
extension EventCodec {
    static func encodeWaldurEvent(_ event: Event, into w: inout ByteWriter) {
        switch event {
        case .jobRunObserved, .sacctObserved:
            break
        case .directoryChanged(let c):
            w.u8(Kind.directoryChanged.rawValue); w.u8(1)
            w.string(c.offering)
            w.varint(UInt64(c.upsertedResources.count))
            for r in c.upsertedResources { w.string(r.uuid); w.string(r.backendID); w.string(r.state); w.string(r.name) }
            w.varint(UInt64(c.removedResources.count)); for u in c.removedResources { w.string(u) }
            w.varint(UInt64(c.upsertedUsers.count)); for u in c.upsertedUsers { w.string(u.username); w.string(u.url) }
            w.varint(UInt64(c.removedUsers.count)); for u in c.removedUsers { w.string(u) }
        case .waldurObserved(let o):
            w.u8(Kind.waldurObserved.rawValue); w.u8(1)
            w.string(o.offering); w.varint(UInt64(o.month.ordinal))
            w.varint(UInt64(o.values.count)); for v in o.values { encodeObserved(v, into: &w) }
        case .submissionIntended(let i):
            w.u8(Kind.submissionIntended.rawValue); w.u8(1)
            w.string(i.offering)
            switch i.kind {
            case .totals: w.u8(1)
            case .userUsages(let cu): w.u8(2); w.string(cu)
            }
            w.string(i.resource); w.varint(UInt64(i.month.ordinal)); w.zigzag(i.date)
            w.varint(UInt64(i.items.count))
            for item in i.items {
                encodeTarget(item.target, into: &w)
                w.i128BE(item.amount.hundredths)
                encodeOptionalAmount(item.basedOn, into: &w)
                encodeOptionalString(item.userURL, into: &w)
            }
            w.varint(UInt64(i.cause.count)); for c in i.cause { w.varint(c) }
            w.string(i.configFingerprint)
            w.u8(i.staff ? 1 : 0)
        case .submissionOutcome(let o):
            w.u8(Kind.submissionOutcome.rawValue); w.u8(1)
            w.varint(o.intent)
            switch o.result {
            case .accepted: w.u8(1)
            case .rejected(let status, let message): w.u8(2); w.zigzag(Int64(status)); w.string(message)
            case .needsStaff(let message): w.u8(3); w.string(message)
            case .ambiguous(let message): w.u8(4); w.string(message)
            }
        case .submissionConfirmed(let c):
            w.u8(Kind.submissionConfirmed.rawValue); w.u8(1)
            w.varint(c.intent); w.u8(c.agreed ? 1 : 0)
            w.varint(UInt64(c.observed.count)); for v in c.observed { encodeObserved(v, into: &w) }
        case .decreaseHeld(let h):
            w.u8(Kind.decreaseHeld.rawValue); w.u8(1)
            w.string(h.offering); encodeTarget(h.target, into: &w)
            w.i128BE(h.confirmed.hundredths); w.i128BE(h.desired.hundredths)
            w.varint(UInt64(h.cause.count)); for c in h.cause { w.varint(c) }
        }
    }

    static func decodeWaldurEvent(kind: Kind, _ r: inout ByteReader) throws(ByteDecodingError) -> Event {
        switch kind {
        case .jobRunObserved, .sacctObserved:
            throw ByteDecodingError("not a Waldur-side event")
        case .directoryChanged:
            var c = DirectoryChange(offering: try r.string())
            for _ in 0..<(try count(&r)) {
                c.upsertedResources.append(DirectoryResource(uuid: try r.string(), backendID: try r.string(), state: try r.string(), name: try r.string()))
            }
            for _ in 0..<(try count(&r)) { c.removedResources.append(try r.string()) }
            for _ in 0..<(try count(&r)) { c.upsertedUsers.append(DirectoryUser(username: try r.string(), url: try r.string())) }
            for _ in 0..<(try count(&r)) { c.removedUsers.append(try r.string()) }
            return .directoryChanged(c)
        case .waldurObserved:
            let offering = try r.string()
            let month = try decodeMonth(&r)
            var values: [ObservedValue] = []
            for _ in 0..<(try count(&r)) { values.append(try decodeObserved(&r)) }
            return .waldurObserved(WaldurObservation(offering: offering, month: month, values: values))
        case .submissionIntended:
            let offering = try r.string()
            let kind: SubmissionIntent.Kind
            switch try r.u8() {
            case 1: kind = .totals
            case 2: kind = .userUsages(componentUsage: try r.string())
            default: throw ByteDecodingError("bad submission kind")
            }
            let resource = try r.string()
            let month = try decodeMonth(&r)
            let date = try r.zigzag()
            var items: [SubmissionIntent.Item] = []
            for _ in 0..<(try count(&r)) {
                let t = try decodeTarget(&r)
                let amount = WaldurAmount(hundredths: try r.i128BE())
                let based = try decodeOptionalAmount(&r)
                let url = try decodeOptionalString(&r)
                items.append(SubmissionIntent.Item(target: t, amount: amount, basedOn: based, userURL: url))
            }
            var cause: [Sequence64] = []
            for _ in 0..<(try count(&r)) { cause.append(try r.varint()) }
            let fp = try r.string()
            let staff = try r.u8() == 1
            return .submissionIntended(SubmissionIntent(offering: offering, kind: kind, resource: resource, month: month, date: date,
                                                        items: items, cause: cause, configFingerprint: fp, staff: staff))
        case .submissionOutcome:
            let intent = try r.varint()
            let result: SubmissionOutcome.Result
            switch try r.u8() {
            case 1: result = .accepted
            case 2: result = .rejected(status: Int(try r.zigzag()), message: try r.string())
            case 3: result = .needsStaff(message: try r.string())
            case 4: result = .ambiguous(message: try r.string())
            default: throw ByteDecodingError("bad submission outcome")
            }
            return .submissionOutcome(SubmissionOutcome(intent: intent, result: result))
        case .submissionConfirmed:
            let intent = try r.varint()
            let agreed = try r.u8() == 1
            var values: [ObservedValue] = []
            for _ in 0..<(try count(&r)) { values.append(try decodeObserved(&r)) }
            return .submissionConfirmed(SubmissionConfirmation(intent: intent, observed: values, agreed: agreed))
        case .decreaseHeld:
            let offering = try r.string()
            let t = try decodeTarget(&r)
            let c = WaldurAmount(hundredths: try r.i128BE()), d = WaldurAmount(hundredths: try r.i128BE())
            var cause: [Sequence64] = []
            for _ in 0..<(try count(&r)) { cause.append(try r.varint()) }
            return .decreaseHeld(HeldDecrease(offering: offering, target: t, confirmed: c, desired: d, cause: cause))
        }
    }

    // MARK: pieces

    static func count(_ r: inout ByteReader) throws(ByteDecodingError) -> Int {
        let n = try r.varint()
        guard n <= 10_000_000 else { throw ByteDecodingError("implausible element count \(n)") }
        return Int(n)
    }

    static func decodeMonth(_ r: inout ByteReader) throws(ByteDecodingError) -> BillingMonth {
        let o = try r.varint()
        guard o < 120_000, let m = BillingMonth(ordinal: Int(o)) else { throw ByteDecodingError("bad month ordinal \(o)") }
        return m
    }

    static func encodeTarget(_ t: UsageTarget, into w: inout ByteWriter) {
        w.string(t.resource); w.varint(UInt64(t.month.ordinal)); w.string(t.component)
        encodeOptionalString(t.user, into: &w)
    }

    static func decodeTarget(_ r: inout ByteReader) throws(ByteDecodingError) -> UsageTarget {
        let resource = try r.string()
        let month = try decodeMonth(&r)
        let component = try r.string()
        return UsageTarget(resource: resource, month: month, component: component, user: try decodeOptionalString(&r))
    }

    static func encodeObserved(_ v: ObservedValue, into w: inout ByteWriter) {
        encodeTarget(v.target, into: &w)
        encodeOptionalAmount(v.amount, into: &w)
        encodeOptionalString(v.componentUsage, into: &w)
    }

    static func decodeObserved(_ r: inout ByteReader) throws(ByteDecodingError) -> ObservedValue {
        ObservedValue(target: try decodeTarget(&r), amount: try decodeOptionalAmount(&r), componentUsage: try decodeOptionalString(&r))
    }

    static func encodeOptionalString(_ s: String?, into w: inout ByteWriter) {
        if let s { w.u8(1); w.string(s) } else { w.u8(0) }
    }

    static func decodeOptionalString(_ r: inout ByteReader) throws(ByteDecodingError) -> String? {
        switch try r.u8() {
        case 0: return nil
        case 1: return try r.string()
        default: throw ByteDecodingError("bad optional flag")
        }
    }

    static func encodeOptionalAmount(_ a: WaldurAmount?, into w: inout ByteWriter) {
        if let a { w.u8(1); w.i128BE(a.hundredths) } else { w.u8(0) }
    }

    static func decodeOptionalAmount(_ r: inout ByteReader) throws(ByteDecodingError) -> WaldurAmount? {
        switch try r.u8() {
        case 0: return nil
        case 1: return WaldurAmount(hundredths: try r.i128BE())
        default: throw ByteDecodingError("bad optional flag")
        }
    }
}
