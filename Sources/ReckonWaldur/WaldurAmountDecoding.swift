extension KeyedDecodingContainer {
    /// Decodes Waldur's `usage`: a decimal string such as `"100.00"`. The published schema wrongly
    /// says integer, so a JSON integer is accepted too; a JSON fraction is refused (no floats).
    func decodeWaldurAmount(forKey key: Key) throws -> WaldurAmount {
        if let text = try? decode(String.self, forKey: key) {
            guard let amount = WaldurAmount(text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: self, debugDescription: "\"\(text)\" is not a decimal with at most 2 places")
            }
            return amount
        }
        let whole = try decode(Int64.self, forKey: key)
        guard let amount = WaldurAmount(hundredths: Int128(whole) * 100) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "\(whole) is out of range")
        }
        return amount
    }

    /// Decodes a `YYYY-MM-01` billing period.
    func decodeBillingPeriod(forKey key: Key) throws -> WaldurBillingPeriod {
        let text = try decode(String.self, forKey: key)
        guard let period = WaldurBillingPeriod(firstDay: text) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self, debugDescription: "\"\(text)\" is not the first day of a month")
        }
        return period
    }
}
