import Foundation
import Testing
import WaldurSimulator

/// The `/_sim/*` admin endpoints and fault injection (issue 3, "Fault injection" and "Admin endpoints").
@Suite struct AdminAndFaultTests {
    static let setUsage = "/api/marketplace-component-usages/set_usage/"
    static let body = "{\"resource\":\"\(IDs.resourceOK)\",\"usages\":[{\"type\":\"cpu\",\"amount\":\"3\"}]}"

    @Test func requestCountsIncludeRejectedRequests() async throws {
        try await withHarness { sim in
            _ = try await sim.send("GET", "/api/users/me/")
            _ = try await sim.get("/api/users/me/")
            _ = try await sim.post(Self.setUsage, #"{"usages":[]}"#)
            _ = try await sim.get("/api/marketplace-component-usages/\(IDs.resourceOK)/")
            let answer = try await sim.send("GET", "/_sim/requests")
            let counts = (answer.object["counts"] as? [String: Int]) ?? [:]
            #expect(counts["GET /api/users/me/"] == 2)
            #expect(counts["POST /api/marketplace-component-usages/set_usage/"] == 1)
            #expect(counts["GET /api/marketplace-component-usages/{uuid}/"] == 1)
            let statuses = (answer.object["statuses"] as? [String: [String: Int]]) ?? [:]
            #expect(statuses["GET /api/users/me/"] == ["401": 1, "200": 1])
            #expect(statuses["POST /api/marketplace-component-usages/set_usage/"] == ["400": 1])
        }
    }

    @Test func scriptedStatusAndRateLimitFaults() async throws {
        try await withHarness { sim in
            let set = try await sim.send("POST", "/_sim/faults", json: #"{"script":[{"kind":"status","status":503},{"kind":"rate_limit","retry_after_seconds":7},{"kind":"status","status":500}]}"#)
            #expect(set.status == 200)
            let first = try await sim.get("/api/users/me/")
            #expect(first.status == 503)
            let second = try await sim.get("/api/users/me/")
            #expect(second.status == 429)
            #expect(second.header("Retry-After") == "7")
            let third = try await sim.get("/api/users/me/")
            #expect(third.status == 500)
            let fourth = try await sim.get("/api/users/me/")
            #expect(fourth.status == 200)
        }
    }

    @Test func faultsCanBeLimitedToPaths() async throws {
        try await withHarness { sim in
            _ = try await sim.send("POST", "/_sim/faults", json: #"{"error_rate":1,"error_statuses":[502],"paths":["/api/marketplace-component-usages/set_usage/"]}"#)
            #expect(try await sim.get("/api/users/me/").status == 200)
            #expect(try await sim.post(Self.setUsage, Self.body).status == 502)
            #expect(try await sim.send("GET", "/_sim/usages").status == 200)
        }
    }

    /// "Apply the write, then drop the connection before answering".
    @Test func dropAfterWriteAppliesTheWriteAndClosesTheConnection() async throws {
        try await withHarness { sim in
            _ = try await sim.send("POST", "/_sim/faults", json: #"{"script":[{"kind":"drop_after_write"}]}"#)
            await #expect(throws: (any Error).self) {
                _ = try await sim.post(Self.setUsage, Self.body)
            }
            let stored = try await sim.storedUsages()
            #expect(stored.first?["usage"] as? String == "3.00")
            let answer = try await sim.send("GET", "/_sim/requests")
            let statuses = (answer.object["statuses"] as? [String: [String: Int]]) ?? [:]
            #expect(statuses["POST /api/marketplace-component-usages/set_usage/"] == ["dropped": 1])
        }
    }

    @Test func latencyIsAdded() async throws {
        try await withHarness { sim in
            _ = try await sim.send("POST", "/_sim/faults", json: #"{"latency_ms":300}"#)
            let clock = ContinuousClock()
            let start = clock.now
            #expect(try await sim.get("/api/users/me/").status == 200)
            #expect(clock.now - start >= .milliseconds(300))
        }
    }

    @Test func invalidFaultJSONIsRejected() async throws {
        try await withHarness { sim in
            let answer = try await sim.send("POST", "/_sim/faults", json: #"{"error_rate":1.5}"#)
            #expect(answer.status == 400)
            #expect((answer.object["detail"] as? String)?.contains("error_rate 1.5") == true)
        }
    }

    @Test func seededRandomFaultsAreReproducible() async throws {
        var runs: [[Int]] = []
        for _ in 0..<2 {
            try await withHarness { sim in
                _ = try await sim.send("POST", "/_sim/faults", json: #"{"error_rate":0.5,"error_statuses":[503],"seed":42}"#)
                var statuses: [Int] = []
                for _ in 0..<12 { statuses.append(try await sim.get("/api/users/me/").status) }
                runs.append(statuses)
            }
        }
        #expect(runs[0] == runs[1])
        #expect(runs[0].contains(503))
        #expect(runs[0].contains(200))
    }

    @Test func clockEndpointSetsAndClearsNow() async throws {
        try await withHarness(now: nil) { sim in
            let set = try await sim.send("POST", "/_sim/clock", json: #"{"now":"2026-08-01T00:10:00+03:00"}"#)
            #expect(set.object["now"] as? String == "2026-07-31T21:10:00Z")
            #expect(set.object["fixed"] as? Bool == true)
            let cleared = try await sim.send("POST", "/_sim/clock", json: #"{"now":null}"#)
            #expect(cleared.object["fixed"] as? Bool == false)
            let bad = try await sim.send("POST", "/_sim/clock", json: #"{"now":"yesterday"}"#)
            #expect(bad.status == 400)
        }
    }

    @Test func statePersistsAcrossRestarts() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("waldur-sim-state-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await withHarness(statePath: path) { sim in
            let answer = try await sim.post(Self.setUsage, Self.body)
            #expect(answer.status == 201)
        }
        #expect(FileManager.default.fileExists(atPath: path))
        try await withHarness(statePath: path) { sim in
            let stored = try await sim.storedUsages()
            #expect(stored.count == 1)
            #expect(stored.first?["usage"] as? String == "3.00")
            // The restored records are found by uuid and by (resource, type, month): a user value
            // goes under the restored parent, and a new total overwrites it rather than adding one.
            let uuid = try #require(stored.first?["uuid"] as? String)
            let users = try await sim.post("/api/marketplace-component-usages/\(uuid)/set_user_usages/", #"{"usages":[{"username":"alice","usage":"1"}]}"#)
            #expect(users.status == 201)
            #expect(try await sim.storedUserUsages().first?["component_usage_uuid"] as? String == uuid)
            #expect(try await sim.post(Self.setUsage, Self.body).status == 201)
            #expect(try await sim.storedUsages().count == 1)
        }
    }

    /// A client pages through a list while writes happen in between: every page reflects the
    /// writes before it (the simulator keeps a listed result only until the next write).
    @Test func listPagesFollowWritesBetweenPages() async throws {
        try await withHarness { sim in
            let list = "/api/marketplace-component-usages/?page_size=1"
            #expect(try await sim.post(Self.setUsage, Self.body).status == 201)
            let first = try await sim.get(list)
            #expect(first.header("X-Result-Count") == "1")
            #expect(try await sim.post(Self.setUsage, "{\"resource\":\"\(IDs.resourceOK)\",\"usages\":[{\"type\":\"ram\",\"amount\":\"5\"}]}").status == 201)
            let second = try await sim.get(list + "&page=2")
            #expect(second.status == 200)
            #expect(second.header("X-Result-Count") == "2")
            let again = try await sim.get(list)
            #expect(again.header("X-Result-Count") == "2")
            let types = Set((again.array + second.array).compactMap { $0["type"] as? String })
            #expect(types == ["cpu", "ram"])
        }
    }

    @Test func unknownPathIsDjangoHTML404() async throws {
        try await withHarness { sim in
            let answer = try await sim.get("/api/marketplace-nothing/")
            #expect(answer.status == 404)
            #expect(answer.header("Content-Type")?.hasPrefix("text/html") == true)
        }
    }
}
