import ReckonCore
import Testing

@Suite struct EventCodecTests {
    static func run(_ id: JobRunIdentity, end: EpochSeconds? = 1_800_000_100) throws -> JobRun {
        JobRun(identity: id, jobID: "123_4", account: "hpc_alloc_a", user: "alice", state: "CANCELLED by 1001",
               submit: 1_800_000_000, start: 1_800_000_010, end: end, suspended: 7,
               allocTRES: try TRESQuantities.parse("billing=5,cpu=1,gres/gpu:a100=1,gres/gpu=1,mem=200M,node=1,gres/fpga=3"),
               reqTRES: nil)
    }

    @Test func roundTripsEveryKind() throws {
        let events: [Event] = [
            .jobRunObserved(JobRunObserved(run: try Self.run(.dbIndex(cluster: "sandbox", index: 42)), supersedes: nil)),
            .jobRunObserved(JobRunObserved(run: try Self.run(.jobIDRaw(cluster: "c", id: 19, submit: 5), end: nil), supersedes: 0)),
            .jobRunObserved(JobRunObserved(run: try Self.run(.jobID(cluster: "c", id: "4_1", submit: -5)), supersedes: 99)),
            .sacctObserved(SacctObservation(source: .sacct(window: TimeWindow(start: 1, end: 9)!), cluster: "sandbox", observedAt: 10,
                                            records: 3, skippedSteps: 4, newVersions: 2, unchanged: 1, malformedCount: 1,
                                            malformed: [MalformedRecord(line: 7, reason: "bad", text: "a|b|ü")])),
            .sacctObserved(SacctObservation(source: .file(name: "x.psv", sha256: "ab"), cluster: "c", observedAt: -3)),
            .jobRunObserved(JobRunObserved(run: try { () throws -> JobRun in
                var r = try Self.run(.dbIndex(cluster: "s", index: 9))
                r.reqTRES = r.allocTRES          // stored once
                r.state = "SOME_FUTURE_STATE"    // not a known state: spelled out
                return r
            }(), supersedes: 3)),
        ]
        for e in events {
            #expect(try EventCodec.decode(EventCodec.encode(e)) == e)
        }
    }

    @Test func aJobRunVersionIsCompact() throws {
        let e = Event.jobRunObserved(JobRunObserved(run: try Self.run(.dbIndex(cluster: "sandbox", index: 123_456)), supersedes: nil))
        #expect(EventCodec.encode(e).count < 110)
    }

    @Test func refusesWhatItDoesNotKnow() throws {
        var bytes = EventCodec.encode(.sacctObserved(SacctObservation(source: .file(name: "f", sha256: "h"), cluster: "c", observedAt: 1)))
        bytes[1] = 2   // a newer version of the kind
        #expect(throws: ByteDecodingError.self) { try EventCodec.decode(bytes) }
        bytes[0] = 200 // an unknown kind
        #expect(throws: ByteDecodingError.self) { try EventCodec.decode(bytes) }
        let good = EventCodec.encode(.jobRunObserved(JobRunObserved(run: try Self.run(.dbIndex(cluster: "s", index: 1)), supersedes: nil)))
        for cut in [0, 1, 5, good.count - 1] {
            #expect(throws: ByteDecodingError.self) { try EventCodec.decode(Array(good.prefix(cut))) }
        }
        #expect(throws: ByteDecodingError.self) { try EventCodec.decode(good + [0]) }
    }
}
