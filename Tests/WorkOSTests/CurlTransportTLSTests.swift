import Foundation
import Glibc
import TestHelpers
import Testing
import WorkOS
import WorkOSSimulator

extension LoopbackSimulatorTests {
    /// TLS through libcurl against a real TLS server on loopback (`openssl s_server`
    /// with a throwaway self-signed certificate): verification is on, and a CA
    /// file makes that certificate trusted.
    @Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")))
    struct CurlTransportTLSTests {
        @Test func certificateVerificationIsOnAndTheCAFileIsHonoured() async throws {
            let directory = FileManager.default.temporaryDirectory.appending(path: "workos-tls-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let certificate = directory.appending(path: "cert.pem").path
            let key = directory.appending(path: "key.pem").path
            try Self.run([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "1",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            ])
            // A free loopback port: bind one through a simulator, then release it.
            let probe = try SimulatorHarness(SimulatorConfiguration(directories: 0))
            probe.stop()
            let port = try #require(probe.baseURL.port)

            let server = SpawnedProcess()
            server.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            server.arguments = ["s_server", "-cert", certificate, "-key", key, "-accept", "127.0.0.1:\(port)", "-www"]
            server.standardOutput = FileHandle.nullDevice
            server.standardError = FileHandle.nullDevice
            server.standardInput = FileHandle.nullDevice
            try server.run()
            defer {
                // s_server ignores SIGTERM while serving: end it for sure.
                kill(server.processIdentifier, SIGKILL)
                server.waitUntilExit()
            }
            let url = try #require(URL(string: "https://127.0.0.1:\(port)/"))
            let strict = CurlTransport(configuration: .init(connectTimeout: .seconds(5), requestTimeout: .seconds(5), threads: 1))
            // Until s_server listens, connecting is refused (curl 7) at once; then verification fails.
            let started = ContinuousClock.now
            var failure: HTTPTransportError?
            repeat {
                do {
                    _ = try await strict.send(HTTPRequestSpec(url: url))
                    failure = nil
                    break
                } catch let error as HTTPTransportError {
                    failure = error
                }
                await Task.yield()
            } while failure?.code == 7 && started.duration(to: .now) < .seconds(10)
            let error = try #require(failure, "an untrusted certificate was accepted")
            #expect(error.code == 60)  // CURLE_PEER_FAILED_VERIFICATION
            #expect(error.kind == .transport)

            let trusting = CurlTransport(
                configuration: .init(caFile: certificate, connectTimeout: .seconds(5), requestTimeout: .seconds(5), threads: 1))
            let response = try await trusting.send(HTTPRequestSpec(url: url))

            #expect(response.status == 200)
        }

        static func run(_ arguments: [String]) throws {
            let process = SpawnedProcess()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
        }
    }
}
