import Foundation

/// libFuzzer entry point for the config file: YAML text through Yams and
/// every setting's validation (`Settings.apply(yaml:source:)`). A wrong file
/// must give a `SettingsError`, never a trap; a YAML error's message must be
/// one line (it names the place, never quotes the text).
@_cdecl("LLVMFuzzerTestOneInput")
public func settingsFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    var settings = Settings()
    do {
        try settings.apply(yaml: text, source: "fuzz.yaml")
    } catch {
        if error.problem.hasPrefix("is not valid YAML") {
            precondition(!error.description.contains("\n"), "multi-line error: \(error.description.debugDescription)")
        }
    }
    return 0
}
