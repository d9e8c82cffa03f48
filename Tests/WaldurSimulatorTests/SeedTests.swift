import Foundation
import Testing
import WaldurSimulator

/// The YAML seed format documented in docs/waldur-simulator.md.
@Suite struct SeedTests {
    /// The example from docs/waldur-simulator.md, verbatim.
    static let documentedExample = """
    time_zone: Europe/Tallinn
    users:
      - token: 0123456789abcdef0123456789abcdef01234567
        username: reporter
        is_staff: false
        service_provider_for: [c5d4f9a2b1e04c3d8e7f6a5b4c3d2e1f]
      - token: fedcba9876543210fedcba9876543210fedcba98
        username: admin
        is_staff: true
    offerings:
      - uuid: 8f7e6d5c4b3a29180f1e2d3c4b5a6978
        customer_uuid: c5d4f9a2b1e04c3d8e7f6a5b4c3d2e1f
        name: HPC cluster
        service_provider_can_create_offering_user: true
        components:
          - {type: cpu, billing_type: usage, measured_unit: k-Hours}
          - {type: mem, billing_type: usage, measured_unit: GB-Hours}
    resources:
      - uuid: 10a0f810be1c43bbb651e8cbdbb90198
        offering_uuid: 8f7e6d5c4b3a29180f1e2d3c4b5a6978
        backend_id: hpc_alloc_a
        state: OK
        name: alloc-a
    offering_users:
      - uuid: 3e2d1c0b9a8f7e6d5c4b3a2918070605
        offering_uuid: 8f7e6d5c4b3a29180f1e2d3c4b5a6978
        username: alice
        user_username: alice@example.org
    component_usages:
      - resource_uuid: 10a0f810be1c43bbb651e8cbdbb90198
        type: cpu
        billing_period: "2026-07-01"
        usage: "120.50"
        user_usages:
          - {username: alice, usage: "120.50", offering_user_uuid: 3e2d1c0b9a8f7e6d5c4b3a2918070605}
    """

    @Test func documentedExampleDecodesAndServes() async throws {
        let seed = try SimulatorSeed(yaml: Self.documentedExample)
        #expect(seed.users.count == 2)
        #expect(seed.offerings.first?.components.map(\.type) == ["cpu", "mem"])
        try await withHarness(seed: seed) { sim in
            let stored = try await sim.storedUsages()
            #expect(stored.first?["usage"] as? String == "120.50")
            #expect(stored.first?["billing_period"] as? String == "2026-07-01")
            #expect(try await sim.storedUserUsages().first?["username"] as? String == "alice")
            let clock = try await sim.send("GET", "/_sim/clock")
            #expect(clock.object["time_zone"] as? String == "Europe/Tallinn")
        }
    }

    /// Without a zone the server runs in UTC, and says "UTC" (Foundation on Linux names that zone
    /// "GMT", which `/_sim/clock` reported until a docs audit noticed).
    @Test func theDefaultZoneIsReportedAsUTC() async throws {
        let yaml = Self.documentedExample.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.contains("time_zone") }.joined(separator: "\n")
        #expect(yaml != Self.documentedExample)
        try await withHarness(seed: try SimulatorSeed(yaml: yaml)) { sim in
            let clock = try await sim.send("GET", "/_sim/clock")
            #expect(clock.object["time_zone"] as? String == "UTC")
        }
    }

    @Test func inconsistentSeedNamesTheField() throws {
        let yaml = """
        users: [{token: t0000000000000000000000000000000000000001, username: u}]
        offerings: [{uuid: 8f7e6d5c4b3a29180f1e2d3c4b5a6978, customer_uuid: c5d4f9a2b1e04c3d8e7f6a5b4c3d2e1f, components: []}]
        resources: [{uuid: 10a0f810be1c43bbb651e8cbdbb90198, offering_uuid: not-a-uuid}]
        """
        let seed = try SimulatorSeed(yaml: yaml)
        #expect {
            try seed.validate()
        } throws: { error in
            "\(error)".contains("resources[0].offering_uuid \"not-a-uuid\" is not a UUID")
        }
    }

    @Test func missingKeyIsReported() {
        #expect {
            _ = try SimulatorSeed(yaml: "users: []\noffereings: []\nresources: []\n")
        } throws: { error in
            "\(error)".contains("offerings")
        }
    }
}
