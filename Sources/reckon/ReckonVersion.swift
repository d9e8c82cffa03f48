/// reckon's version, shown by `--version` and sent in the User-Agent.
enum ReckonVersion {
    static let string = "0.1.0"
}
