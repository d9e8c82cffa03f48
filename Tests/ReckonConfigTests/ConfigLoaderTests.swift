import Foundation
import ReckonConfig
import ReckonCore
import Testing

@Suite struct ConfigLoaderTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func loadsTheSiteAgentSeedExampleAsIs() throws {
        let cfg = try ConfigLoader.load(path: Self.repo.appendingPathComponent("fixtures/config/site-agent-seed.yaml").path)
        #expect(cfg.timeZoneIdentifier == "UTC")
        #expect(cfg.reportingPeriods == 2)
        #expect(cfg.offerings.count == 1)
        let o = try #require(cfg.offerings.first)
        #expect(o.name == "SLURM Usage Reporting")
        #expect(o.apiURL == "https://your-waldur-instance.com/api/")
        #expect(o.token.reveal() == "your-api-token-here")
        #expect(o.components.map(\.name) == ["cpu", "mem"])
        #expect(o.component(named: "cpu")?.unitFactor.description == "60000")
        #expect(o.component(named: "mem")?.unitFactor.description == "61440")
        #expect(o.component(named: "mem")?.measuredUnit == "gb-Hours")
        #expect(o.slurmBinPath == "/usr/bin")
        #expect(cfg.reckon == ReckonSettings())
        // Its offering UUID is a placeholder: loading accepts it, using it against Waldur does not.
        #expect { try o.validatedUUID() } throws: { e in
            "\(e)" == "offerings[0].waldur_offering_uuid: expected a UUID (32 hex digits, dashes optional), got \"your-offering-uuid-here\""
        }
    }

    static func yaml(offering extra: String = "", top: String = "", uuid: String = "0123456789abcdef0123456789abcdef") -> String {
        """
        timezone: "Europe/Tallinn"
        \(top)
        offerings:
          - name: "HPC"
            waldur_api_url: "https://waldur.example.org/api/"
            waldur_api_token: "tok-SECRET-123"
            waldur_offering_uuid: "\(uuid)"
            backend_type: "slurm"
            mqtt_enabled: false
            backend_settings:
              default_account: root
              slurm_bin_path: /opt/slurm/bin
              cluster_name: hpc1
            backend_components:
              cpu: {measured_unit: k-Hours, unit_factor: 60000, accounting_type: usage, label: CPU}
              gres/gpu: {measured_unit: GPU-hours, unit_factor: 60, accounting_type: usage, label: GPU}
        \(extra)
        """
    }

    @Test func readsEverythingReckonUses() throws {
        let cfg = try ConfigLoader.parse(yaml: Self.yaml(top: "reporting_periods: 3\nreckon:\n  state_dir: /srv/reckon\n  usage_tres: req"))
        #expect(cfg.calendar.timeZoneIdentifier == "Europe/Tallinn")
        #expect(cfg.reportingPeriods == 3)
        #expect(cfg.reckon.stateDirectory == "/srv/reckon")
        #expect(cfg.reckon.usageTRES == .req)
        let o = try #require(cfg.offerings.first)
        #expect(o.clusterName == "hpc1")
        #expect(o.slurmBinPath == "/opt/slurm/bin")
        #expect(o.components.map(\.name) == ["cpu", "gres/gpu"])
        #expect(cfg.offering("01234567-89ab-cdef-0123-456789ABCDEF")?.name == "HPC")
        #expect(cfg.offering("HPC")?.offeringUUID == "0123456789abcdef0123456789abcdef")
    }

    @Test(arguments: [
        ("timezone", "timezone: \"Mars/Base\"", "timezone: unknown time zone \"Mars/Base\""),
        ("unit_factor", "", "offerings[0].backend_components.cpu.unit_factor: expected a positive number, got \"abc\""),
        ("usage_tres", "reckon:\n  usage_tres: both", "reckon.usage_tres: expected alloc or req, got \"both\""),
        ("reckon key", "reckon:\n  stat_dir: /x", "reckon.stat_dir: unknown key"),
        ("periods", "reporting_periods: 13", "reporting_periods: expected an integer from 1 to 12, got 13"),
    ])
    func errorsNameTheKeyAndValue(label: String, top: String, message: String) {
        var text = Self.yaml(top: top.hasPrefix("timezone") ? "" : top)
        if top.hasPrefix("timezone") { text = text.replacingOccurrences(of: "timezone: \"Europe/Tallinn\"", with: top) }
        if label == "unit_factor" { text = text.replacingOccurrences(of: "unit_factor: 60000", with: "unit_factor: abc") }
        #expect { try ConfigLoader.parse(yaml: text) } throws: { e in
            let d = (e as? ConfigError)?.description ?? ""
            return d.contains(message) && d.contains("(line ")
        }
    }

    @Test func badUUIDAndURLAreNamed() throws {
        #expect(try ConfigLoader.parse(yaml: Self.yaml()).offerings.first?.validatedUUID() == "0123456789abcdef0123456789abcdef")
        let noURL = Self.yaml().replacingOccurrences(of: "https://waldur.example.org/api/", with: "waldur.example.org")
        #expect { try ConfigLoader.parse(yaml: noURL) } throws: { e in "\(e)".contains("offerings[0].waldur_api_url: expected an http:// or https:// URL") }
    }

    @Test func tokensNeverAppearInErrorsOrDescriptions() throws {
        // A YAML syntax error on the token's own line must not quote it.
        let broken = Self.yaml().replacingOccurrences(of: "waldur_api_token: \"tok-SECRET-123\"", with: "waldur_api_token: \"tok-SECRET-123")
        do { _ = try ConfigLoader.parse(yaml: broken); Issue.record("expected an error") } catch {
            #expect(!"\(error)".contains("tok-SECRET-123"))
            #expect("\(error)".contains("line"))
        }
        let cfg = try ConfigLoader.parse(yaml: Self.yaml())
        let o = try #require(cfg.offerings.first)
        #expect(!"\(o)".contains("tok-SECRET-123"))
        #expect(!String(reflecting: o).contains("tok-SECRET-123"))
        var dumped = ""
        dump(o, to: &dumped)
        #expect(!dumped.contains("tok-SECRET-123"))
        #expect(o.token.reveal() == "tok-SECRET-123")
    }

    @Test func unknownAgentKeysAreIgnored() throws {
        let cfg = try ConfigLoader.parse(yaml: Self.yaml(offering: "    stomp_enabled: true\n    order_processing_backend: slurm", top: "sentry_dsn: \"\"\nlog_level: DEBUG\nglobal_proxy: \"\""))
        #expect(cfg.offerings.count == 1)
    }

    @Test func missingRequiredKeysAreNamed() {
        let text = Self.yaml().replacingOccurrences(of: "    waldur_offering_uuid: \"0123456789abcdef0123456789abcdef\"\n", with: "")
        #expect { try ConfigLoader.parse(yaml: text) } throws: { e in "\(e)".contains("offerings[0].waldur_offering_uuid: is required") }
    }
}
