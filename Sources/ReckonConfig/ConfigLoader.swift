import Foundation
import ReckonCore
import Yams

/// Reads a waldur-site-agent YAML file into a ``ReckonConfiguration``: strict where reckon depends
/// on a value (time zone, unit factors, URLs, `reckon:` keys), tolerant of everything the agent's
/// other modes use. Errors carry the key path, the offending value and the line.
public enum ConfigLoader {
    /// Keys inside an offering that reckon reads; any other key is the agent's and is ignored.
    static let secretKeys: Set<String> = ["waldur_api_token", "oidc_client_secret", "token", "password", "sentry_dsn"]

    public static func load(path: String) throws(ConfigError) -> ReckonConfiguration {
        let data = try read(path)
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(path: "", message: "config file \(path) is not UTF-8 text")
        }
        return try parse(yaml: text)
    }

    /// The file's bytes; an error says why not in the system's words (`No such file or
    /// directory`, `Permission denied`, `Is a directory`).
    static func read(_ path: String) throws(ConfigError) -> Data {
        func failure(_ code: Int32) -> ConfigError {
            ConfigError(path: "", message: "cannot read config file \(path): \(String(cString: strerror(code)))")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure(errno) }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFDIR { throw failure(EISDIR) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure(errno)
            }
            if n == 0 { return data }
            data.append(contentsOf: buffer[0..<n])
        }
    }

    public static func parse(yaml: String) throws(ConfigError) -> ReckonConfiguration {
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch let e as YamlError {
            throw ConfigError(path: "", message: "not valid YAML: \(describe(e))")
        } catch {
            throw ConfigError(path: "", message: "not valid YAML")
        }
        guard let root, case .mapping(let top) = root else {
            throw ConfigError(path: "", message: "expected a mapping at the top of the config (timezone:, offerings:, …)")
        }
        let tzNode = top["timezone"]
        let tz = try tzNode.map { n throws(ConfigError) in try string(n, path: "timezone") } ?? "UTC"
        let tzName = tz.isEmpty ? "UTC" : tz
        guard let calendar = MonthCalendar(timeZoneIdentifier: tzName) else {
            throw ConfigError(path: "timezone", message: "unknown time zone \"\(tz)\" (expected an IANA name such as UTC or Europe/Tallinn)", line: line(tzNode))
        }
        var periods = 2
        if let n = top["reporting_periods"] {
            let v = try integer(n, path: "reporting_periods")
            guard (1...12).contains(v) else {
                throw ConfigError(path: "reporting_periods", message: "expected an integer from 1 to 12, got \(v)", line: line(n))
            }
            periods = v
        }
        var offerings: [OfferingConfiguration] = []
        if let n = top["offerings"] {
            guard case .sequence(let seq) = n else {
                throw ConfigError(path: "offerings", message: "expected a list of offerings", line: line(n))
            }
            for (i, o) in seq.enumerated() { offerings.append(try offering(o, path: "offerings[\(i)]")) }
        }
        var settings = ReckonSettings()
        if let n = top["reckon"] { settings = try reckonSection(n) }
        for i in offerings.indices { offerings[i].allowInsecureHTTP = settings.allowInsecureHTTP }
        return ReckonConfiguration(timeZoneIdentifier: tzName, calendar: calendar, reportingPeriods: periods,
                                   offerings: offerings, reckon: settings)
    }

    static func offering(_ node: Node, path: String) throws(ConfigError) -> OfferingConfiguration {
        guard case .mapping(let m) = node else { throw ConfigError(path: path, message: "expected a mapping", line: line(node)) }
        func req(_ key: String) throws(ConfigError) -> String {
            guard let n = m[key] else { throw ConfigError(path: "\(path).\(key)", message: "is required", line: line(node)) }
            return try string(n, path: "\(path).\(key)")
        }
        let name = try m["name"].map { n throws(ConfigError) in try string(n, path: "\(path).name") } ?? ""
        let url = try req("waldur_api_url")
        guard let scheme = URL(string: url)?.scheme?.lowercased(), scheme == "http" || scheme == "https", URL(string: url)?.host != nil else {
            throw ConfigError(path: "\(path).waldur_api_url", message: "expected an http:// or https:// URL, got \"\(url)\"", line: line(m["waldur_api_url"]))
        }
        let token = try m["waldur_api_token"].map { n throws(ConfigError) in try string(n, path: "\(path).waldur_api_token", secret: true) } ?? ""
        // Checked when the offering is used against Waldur (``OfferingConfiguration/validatedUUID()``),
        // so that the site-agent guide's example, with its placeholder, loads as is.
        let uuid = try req("waldur_offering_uuid")
        let verify = try m["verify_ssl"].map { n throws(ConfigError) in try boolean(n, path: "\(path).verify_ssl") } ?? true
        let backendType = try m["backend_type"].map { n throws(ConfigError) in try string(n, path: "\(path).backend_type") }?.lowercased() ?? "slurm"
        var binPath = "/usr/bin", cluster = ""
        if let bs = m["backend_settings"] {
            guard case .mapping(let b) = bs else { throw ConfigError(path: "\(path).backend_settings", message: "expected a mapping", line: line(bs)) }
            if let n = b["slurm_bin_path"] { binPath = try string(n, path: "\(path).backend_settings.slurm_bin_path") }
            if let n = b["cluster_name"] { cluster = try string(n, path: "\(path).backend_settings.cluster_name") }
        }
        var components: [Component] = []
        if let bc = m["backend_components"] {
            guard case .mapping(let comps) = bc else {
                throw ConfigError(path: "\(path).backend_components", message: "expected a mapping of TRES name to component", line: line(bc))
            }
            for (k, v) in comps {
                let cname = try string(k, path: "\(path).backend_components")
                components.append(try component(cname, v, path: "\(path).backend_components.\(cname)"))
            }
        }
        return OfferingConfiguration(index: Int(path.dropFirst("offerings[".count).prefix { $0 != "]" }) ?? 0, name: name, apiURL: url, token: SecretToken(token), offeringUUID: uuid, verifySSL: verify,
                                     backendType: backendType, slurmBinPath: binPath, clusterName: cluster, components: components)
    }

    static func component(_ name: String, _ node: Node, path: String) throws(ConfigError) -> Component {
        guard !name.isEmpty else { throw ConfigError(path: path, message: "empty component name", line: line(node)) }
        guard case .mapping(let m) = node else { throw ConfigError(path: path, message: "expected a mapping", line: line(node)) }
        var factor = ExactDecimal(digits: 1, scale: 0)
        if let n = m["unit_factor"] {
            let text: String
            switch n {
            case .scalar(let s): text = s.string
            default: throw ConfigError(path: "\(path).unit_factor", message: "expected a positive number", line: line(n))
            }
            guard let d = ExactDecimal(parsing: text), !d.isZero else {
                throw ConfigError(path: "\(path).unit_factor", message: "expected a positive number, got \"\(text)\"", line: line(n))
            }
            factor = d
        }
        func opt(_ key: String) throws(ConfigError) -> String? {
            try m[key].map { n throws(ConfigError) in try string(n, path: "\(path).\(key)") }
        }
        let accounting = try opt("accounting_type")
        if let a = accounting, !["usage", "limit", "one"].contains(a) {
            throw ConfigError(path: "\(path).accounting_type", message: "expected usage, limit or one, got \"\(a)\"", line: line(m["accounting_type"]))
        }
        return Component(name: name, unitFactor: factor, measuredUnit: try opt("measured_unit"),
                         accountingType: accounting, label: try opt("label"))
    }

    static func reckonSection(_ node: Node) throws(ConfigError) -> ReckonSettings {
        guard case .mapping(let m) = node else { throw ConfigError(path: "reckon", message: "expected a mapping", line: line(node)) }
        var s = ReckonSettings()
        for (k, v) in m {
            let key = try string(k, path: "reckon")
            let p = "reckon.\(key)"
            switch key {
            case "state_dir":
                let d = try string(v, path: p)
                guard !d.isEmpty else { throw ConfigError(path: p, message: "expected a directory path, got an empty string", line: line(v)) }
                s.stateDirectory = d
            case "usage_tres":
                let t = try string(v, path: p)
                guard let src = TRESSource(rawValue: t.lowercased()) else {
                    throw ConfigError(path: p, message: "expected alloc or req, got \"\(t)\"", line: line(v))
                }
                s.usageTRES = src
            case "max_map_size_mb":
                let n = try integer(v, path: p)
                guard n >= 16 else { throw ConfigError(path: p, message: "expected at least 16 (MiB), got \(n)", line: line(v)) }
                s.maxMapSizeMB = n
            case "sacct_timeout_seconds":
                let n = try integer(v, path: p)
                guard n >= 1 else { throw ConfigError(path: p, message: "expected a positive number of seconds, got \(n)", line: line(v)) }
                s.sacctTimeoutSeconds = n
            case "interval_minutes", "poll_overlap_minutes", "rescan_minutes", "directory_refresh_minutes":
                let n = try integer(v, path: p)
                let minimum = key == "poll_overlap_minutes" ? 0 : 1
                guard n >= minimum, n <= 525_600 else {
                    throw ConfigError(path: p, message: "expected whole minutes from \(minimum) to 525600, got \(n)", line: line(v))
                }
                switch key {
                case "interval_minutes": s.intervalMinutes = n
                case "poll_overlap_minutes": s.pollOverlapMinutes = n
                case "rescan_minutes": s.rescanMinutes = n
                default: s.directoryRefreshMinutes = n
                }
            case "decreases":
                let d = try string(v, path: p).lowercased()
                guard d == "send" || d == "hold" else { throw ConfigError(path: p, message: "expected send or hold, got \"\(d)\"", line: line(v)) }
                s.holdDecreases = d == "hold"
            case "waldur_time_zone":
                let z = try string(v, path: p)
                guard MonthCalendar(timeZoneIdentifier: z) != nil else {
                    throw ConfigError(path: p, message: "unknown time zone \"\(z)\" (expected an IANA name)", line: line(v))
                }
                s.waldurTimeZone = z
            case "metrics_address":
                let a = try string(v, path: p)
                guard let colon = a.lastIndex(of: ":"), let port = Int(a[a.index(after: colon)...]), (0...65_535).contains(port), colon != a.startIndex else {
                    throw ConfigError(path: p, message: "expected host:port such as 127.0.0.1:9464, got \"\(a)\"", line: line(v))
                }
                s.metricsAddress = a
            case "heartbeat_file":
                s.heartbeatFile = try string(v, path: p)
            case "allow_insecure_http":
                s.allowInsecureHTTP = try boolean(v, path: p)
            default:
                let known = ReckonSettings.knownKeys.sorted().joined(separator: ", ")
                throw ConfigError(path: p, message: "unknown key (reckon: knows \(known))", line: line(k))
            }
        }
        return s
    }

    // MARK: scalar helpers

    static func line(_ n: Node?) -> Int? { n?.mark.map { $0.line } }

    static func string(_ n: Node, path: String, secret: Bool = false) throws(ConfigError) -> String {
        guard case .scalar(let s) = n else {
            throw ConfigError(path: path, message: "expected a text value", line: line(n))
        }
        if s.tag.description.hasSuffix(":null") || (s.string == "~" && s.style == .plain) || (s.string == "null" && s.style == .plain) {
            return ""
        }
        _ = secret
        return s.string
    }

    static func integer(_ n: Node, path: String) throws(ConfigError) -> Int {
        guard case .scalar(let s) = n, let v = Int(s.string.trimmingCharacters(in: .whitespaces)) else {
            throw ConfigError(path: path, message: "expected an integer, got \(shown(n))", line: line(n))
        }
        return v
    }

    static func boolean(_ n: Node, path: String) throws(ConfigError) -> Bool {
        guard case .scalar(let s) = n else { throw ConfigError(path: path, message: "expected true or false", line: line(n)) }
        switch s.string.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw ConfigError(path: path, message: "expected true or false, got \"\(s.string)\"", line: line(n))
        }
    }

    static func shown(_ n: Node) -> String {
        if case .scalar(let s) = n { return "\"\(s.string)\"" }
        return "a \(n.mapping != nil ? "mapping" : "list")"
    }

    /// Yams' own descriptions quote the YAML around the problem, which may hold a token; reckon
    /// reports only the problem and its position.
    static func describe(_ e: YamlError) -> String {
        switch e {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return "\(problem) at line \(mark.line), column \(mark.column)"
        case .reader(let problem, _, _, _):
            return problem
        case .duplicatedKeysInMapping(let dups, _):
            return "duplicated key\(dups.count == 1 ? "" : "s") \(dups.joined(separator: ", "))"
        default:
            return "unreadable YAML"
        }
    }
}
