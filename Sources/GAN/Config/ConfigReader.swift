import Foundation
import Yams

/// A configuration error: the file, the key path and what is wrong, e.g.
/// `Configs/dcgan.yaml: training.batch_size: expected a whole number ≥ 1, got "abc"`.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    /// The config file, when the error comes from reading one; nil when a resolved config does not fit the
    /// data or the job (a batch larger than the data set, say).
    public let file: String?
    public let keyPath: String
    public let message: String

    public init(file: String?, keyPath: String, message: String) {
        (self.file, self.keyPath, self.message) = (file, keyPath, message)
    }

    public var description: String {
        (file.map { "\($0): " } ?? "") + (keyPath.isEmpty ? "" : keyPath + ": ") + message
    }
}

/// Reads one YAML mapping with typed accessors, remembering which keys were read so that `finish()` can
/// reject the rest: a misspelt key is an error, not a silently ignored setting.
final class ConfigReader {
    let file: String
    let path: String
    private let mapping: Yams.Node.Mapping
    private var used: Set<String> = []

    init(_ node: Yams.Node, file: String, path: String = "") throws {
        guard let mapping = node.mapping else {
            throw ConfigError(file: file, keyPath: path, message: "expected a mapping of keys to values")
        }
        var seen: Set<String> = []
        for (key, _) in mapping {
            let name = key.string ?? "\(key)"
            guard seen.insert(name).inserted else {
                throw ConfigError(
                    file: file, keyPath: path.isEmpty ? name : "\(path).\(name)", message: "the key appears twice")
            }
        }
        self.mapping = mapping
        self.file = file
        self.path = path
    }

    private func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func error(_ key: String, _ message: String) -> ConfigError {
        ConfigError(file: file, keyPath: keyPath(key), message: message)
    }

    private func value(_ key: String) -> Yams.Node? {
        used.insert(key)
        return mapping[Yams.Node(key)]
    }

    private func scalar(_ key: String) throws -> String? {
        guard let node = value(key) else { return nil }
        // A plain null (`key:` or `key: ~`) is a mistake (a value left out), not a request for the default;
        // a quoted empty string ('') is a value.
        let quoted = node.scalar.map { $0.style == .singleQuoted || $0.style == .doubleQuoted } ?? false
        if node.null != nil, !quoted { throw error(key, "no value; give one, or remove the key to keep its default") }
        guard let scalar = node.scalar else { throw error(key, "expected a single value, got \(describe(node))") }
        return scalar.string
    }

    func section(_ key: String) throws -> ConfigReader? {
        guard let node = value(key) else { return nil }
        if node.null != nil { throw error(key, "no value; give one, or remove the key to keep its default") }
        return try ConfigReader(node, file: file, path: keyPath(key))
    }

    func string(_ key: String, default fallback: String, allowed: [String]? = nil) throws -> String {
        guard let text = try scalar(key) else { return fallback }
        if let allowed, !allowed.contains(text) {
            throw error(key, "expected one of \(allowed.joined(separator: ", ")), got \"\(text)\"")
        }
        return text
    }

    func int(_ key: String, default fallback: Int, in range: ClosedRange<Int> = 0...Int.max) throws -> Int {
        guard let text = try scalar(key) else { return fallback }
        guard let number = Int(text), range.contains(number) else {
            throw error(key, "expected a whole number in \(describe(range)), got \"\(text)\"")
        }
        return number
    }

    func float(
        _ key: String, default fallback: Float,
        in range: ClosedRange<Float> = -Float.greatestFiniteMagnitude...Float.greatestFiniteMagnitude
    ) throws -> Float {
        guard let text = try scalar(key) else { return fallback }
        guard let number = Float(text), number.isFinite, range.contains(number) else {
            throw error(key, "expected a number in \(describe(range)), got \"\(text)\"")
        }
        return number
    }

    func bool(_ key: String, default fallback: Bool) throws -> Bool {
        guard let text = try scalar(key) else { return fallback }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error(key, "expected true or false, got \"\(text)\"")
        }
    }

    func floats(_ key: String, default fallback: [Float], count: Int) throws -> [Float] {
        guard let node = value(key) else { return fallback }
        if node.null != nil { throw error(key, "no value; give one, or remove the key to keep its default") }
        guard let items = node.sequence, items.count == count else {
            throw error(key, "expected a list of \(count) numbers, got \(describe(node))")
        }
        return try items.map { item in
            guard let text = item.scalar?.string, let number = Float(text), number.isFinite else {
                throw error(key, "expected a list of \(count) numbers, got \(describe(node))")
            }
            return number
        }
    }

    /// Rejects any key of this mapping that no accessor asked for.
    func finish() throws {
        for (key, _) in mapping {
            let name = key.string ?? "\(key)"
            if !used.contains(name) { throw error(name, "unknown key") }
        }
    }

    private func describe(_ node: Yams.Node) -> String {
        if let s = node.scalar?.string { return "\"\(s)\"" }
        if node.sequence != nil { return "a list" }
        return "a mapping"
    }

    private func describe<T: Comparable>(_ range: ClosedRange<T>) -> String {
        if let upper = range.upperBound as? Int, upper == Int.max { return "\(range.lowerBound)..." }
        if let upper = range.upperBound as? Float, upper == Float.greatestFiniteMagnitude {
            return "\(range.lowerBound)..."
        }
        return "\(range.lowerBound)...\(range.upperBound)"
    }
}

enum ConfigOverrides {
    /// Applies `key.path=value` settings to a YAML tree; the value is read as YAML (`0.5`, `true`, `[0.5, 0.9]`).
    static func apply(_ settings: [String], to root: Yams.Node, file: String) throws -> Yams.Node {
        var root = root
        for setting in settings {
            guard let equals = setting.firstIndex(of: "=") else {
                throw ConfigError(file: file, keyPath: setting, message: "--set needs key.path=value")
            }
            let keys = setting[..<equals].split(separator: ".").map(String.init)
            let text = String(setting[setting.index(after: equals)...])
            guard !text.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ConfigError(
                    file: file, keyPath: String(setting[..<equals]), message: "--set gives no value (key.path=value)")
            }
            guard !keys.isEmpty, let value = try? Yams.compose(yaml: text) else {
                throw ConfigError(
                    file: file, keyPath: String(setting[..<equals]),
                    message: "cannot read the value \"\(text)\" of --set")
            }
            root = try set(value, at: keys[...], in: root, file: file, path: "")
        }
        return root
    }

    private static func set(
        _ value: Yams.Node, at keys: ArraySlice<String>, in node: Yams.Node, file: String, path: String
    ) throws -> Yams.Node {
        guard let key = keys.first else { return value }
        let keyPath = path.isEmpty ? key : "\(path).\(key)"
        guard var mapping = node.mapping ?? (node.null != nil ? Yams.Node.Mapping([]) : nil) else {
            throw ConfigError(
                file: file, keyPath: path, message: "--set cannot go inside a value that is not a mapping")
        }
        let child = mapping[Yams.Node(key)] ?? Yams.Node("~", Tag(.null))
        mapping[Yams.Node(key)] = try set(value, at: keys.dropFirst(), in: child, file: file, path: keyPath)
        return Yams.Node.mapping(mapping)
    }
}
