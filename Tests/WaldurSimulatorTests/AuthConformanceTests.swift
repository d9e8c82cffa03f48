import Testing

/// Reference §9 "Auth" and §2.4 first rows: 401 bodies and `WWW-Authenticate: Token`.
@Suite struct AuthConformanceTests {
    @Test func missingAuthorizationIs401NotProvided() async throws {
        try await withHarness { sim in
            let answer = try await sim.send("GET", "/api/users/me/")
            #expect(answer.status == 401)
            #expect(jsonEquals(answer, #"{"detail":"Authentication credentials were not provided."}"#))
            #expect(answer.header("WWW-Authenticate") == "Token")
        }
    }

    @Test func otherSchemeIs401NotProvided() async throws {
        try await withHarness { sim in
            let answer = try await sim.send("GET", "/api/users/me/", authorization: "Bearer \(IDs.staffToken)")
            #expect(answer.status == 401)
            #expect(jsonEquals(answer, #"{"detail":"Authentication credentials were not provided."}"#))
            #expect(answer.header("WWW-Authenticate") == "Token")
        }
    }

    @Test func unknownTokenIs401InvalidToken() async throws {
        try await withHarness { sim in
            let answer = try await sim.send("GET", "/api/marketplace-provider-resources/", token: "nope0000000000000000000000000000000000")
            #expect(answer.status == 401)
            #expect(jsonEquals(answer, #"{"detail":"Invalid token."}"#))
            #expect(answer.header("WWW-Authenticate") == "Token")
        }
    }

    @Test func keywordIsCaseInsensitive() async throws {
        try await withHarness { sim in
            let answer = try await sim.send("GET", "/api/users/me/", authorization: "tOKEN \(IDs.staffToken)")
            #expect(answer.status == 200)
            #expect(answer.object["is_staff"] as? Bool == true)
        }
    }

    @Test func meReportsStaffFlag() async throws {
        try await withHarness { sim in
            let staff = try await sim.get("/api/users/me/", token: IDs.staffToken)
            let provider = try await sim.get("/api/users/me/", token: IDs.providerToken)
            #expect(staff.object["is_staff"] as? Bool == true)
            #expect(provider.object["is_staff"] as? Bool == false)
            #expect(provider.object["username"] as? String == "provider")
        }
    }

    /// §2.4: a wrong method on a known endpoint is 405 `Method "GET" not allowed.` (after auth).
    @Test func wrongMethodIs405AfterAuth() async throws {
        try await withHarness { sim in
            let unauthenticated = try await sim.send("GET", "/api/marketplace-component-usages/set_usage/")
            #expect(unauthenticated.status == 401)
            let answer = try await sim.get("/api/marketplace-component-usages/set_usage/")
            #expect(answer.status == 405)
            #expect(jsonEquals(answer, #"{"detail":"Method \"GET\" not allowed."}"#))
        }
    }
}
