import Daemon
import Foundation
import Logging
import Synchronization
import Testing

@Suite struct LogLineFormatterTests {
    let instant = Date(timeIntervalSince1970: 1_795_000_000.5)

    @Test func logfmtQuotesOnlyWhatNeedsIt() {
        let line = LogLineFormatter(format: .logfmt).line(
            level: .info, label: "workos-dsync.run", message: "directory reconciled",
            metadata: ["directory.id": "directory_01", "run.id": "17", "changes": "2 creates, 1 disable", "empty": ""],
            timestamp: instant)
        #expect(line == #"ts=2026-11-18T11:06:40.500Z level=info label=workos-dsync.run msg="directory reconciled" changes="2 creates, 1 disable" directory.id=directory_01 empty="" run.id=17"#)
    }

    @Test func underJournaldEachLineStartsWithItsSyslogPriority() {
        let expected: [(Logger.Level, String)] = [
            (.critical, "<2>"), (.error, "<3>"), (.warning, "<4>"), (.notice, "<5>"), (.info, "<6>"), (.debug, "<7>"), (.trace, "<7>"),
        ]
        for format in LogLineFormatter.Format.allCases {
            for (level, prefix) in expected {
                let line = LogLineFormatter(format: format, timestamps: false, journalPriorities: true)
                    .line(level: level, label: "x", message: "m", metadata: [:])
                #expect(line.hasPrefix(prefix + (format == .json ? "{" : "level=")), "\(line)")
            }
            let plain = LogLineFormatter(format: format, timestamps: false).line(level: .error, label: "x", message: "m", metadata: [:])
            #expect(!plain.hasPrefix("<"))
        }
        #expect(!LogSetup.standardErrorIsJournal(nil))
        #expect(!LogSetup.standardErrorIsJournal("1:2"), "a JOURNAL_STREAM that is not standard error")
        #expect(!LogSetup.standardErrorIsJournal("garbage"))
    }

    @Test func logfmtEscapesQuotesBackslashesAndNewlines() {
        let line = LogLineFormatter(format: .logfmt, timestamps: false).line(
            level: .error, label: "x", message: "a \"quoted\"\nsecond line\\", metadata: ["weird key=": "tab\there"])
        #expect(line == #"level=error label=x msg="a \"quoted\"\nsecond line\\" weird_key_="tab\there""#)
        #expect(!line.contains("\n"))
    }

    @Test func jsonIsOneObjectPerLine() throws {
        let line = LogLineFormatter(format: .json).line(
            level: .warning, label: "workos-dsync.run", message: "held \"3\"\n",
            metadata: ["directory.id": "d1", "list": .array(["a", "b"]), "map": .dictionary(["k": "v"])], timestamp: instant)
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object == [
            "ts": "2026-11-18T11:06:40.500Z", "level": "warning", "label": "workos-dsync.run", "msg": "held \"3\"\n",
            "directory.id": "d1", "list": "[a, b]", "map": "{k: v}",
        ])
        #expect(line.hasPrefix(#"{"ts":"2026-11-18T11:06:40.500Z","level":"warning","label":"workos-dsync.run","msg":"#))
    }

    @Test func handlerMergesMetadataAndFollowsTheSharedLevel() {
        let lines = Mutex<[String]>([])
        let control = LogLevelControl(.info)
        var logger = Logger(label: "test") { label in
            StructuredLogHandler(
                label: label, formatter: LogLineFormatter(format: .logfmt, timestamps: false), control: control,
                sink: { line in lines.withLock { $0.append(line) } })
        }
        logger[metadataKey: "directory.id"] = "d1"
        logger.debug("hidden")
        logger.info("shown", metadata: ["run.id": "5"])
        control.level = .debug
        logger.debug("now shown")
        #expect(lines.withLock { $0 } == [
            "level=info label=test msg=shown directory.id=d1 run.id=5\n",
            "level=debug label=test msg=\"now shown\" directory.id=d1\n",
        ])
    }
}
