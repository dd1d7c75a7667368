import Foundation
import WorkOSSimulator

/// A started simulator plus request helpers over raw loopback HTTP.
final class SimulatorHarness {
    let simulator: WorkOSSimulator
    let port: Int

    /// Rate limits are off unless the configuration given turns them on.
    init(_ configuration: SimulatorConfiguration = SimulatorConfiguration(rateLimit: nil)) throws {
        simulator = WorkOSSimulator(configuration)
        port = try simulator.start().port!
    }

    deinit { simulator.stop() }

    var authorization: [(String, String)] { [("Authorization", "Bearer \(simulator.apiKey)")] }

    func outcome(_ target: String, headers: [(String, String)]? = nil) throws -> RawOutcome {
        try rawRequest(port: port, target: target, headers: headers ?? authorization)
    }

    func get(_ target: String, headers: [(String, String)]? = nil) throws -> RawResponse {
        try outcome(target, headers: headers).response()
    }

    func post(_ target: String, json: String) throws -> RawResponse {
        try rawRequest(port: port, method: "POST", target: target,
                       headers: authorization + [("Content-Type", "application/json")], body: Array(json.utf8)).response()
    }

    /// Follows `list_metadata.after` until null; returns every id in the order served.
    func listAllIDs(_ path: String, query: String, limit: Int = 7, order: String = "asc") throws -> [String] {
        var ids: [String] = []
        var after: String?
        for _ in 0..<10_000 {
            var target = "\(path)?\(query)&limit=\(limit)&order=\(order)"
            if let after { target += "&after=\(after)" }
            let page = try get(target)
            guard page.status == 200 else { throw RawHTTPError(description: "page status \(page.status): \(page.text)") }
            ids += page.data.compactMap { $0["id"] as? String }
            guard let next = page.after else { return ids }
            after = next
        }
        throw RawHTTPError(description: "page ceiling reached")
    }
}
