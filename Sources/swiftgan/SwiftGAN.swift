import ArgumentParser
import CMPI
import Foundation
import GAN
import Tensor

@main
struct SwiftGAN: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "swiftgan",
        abstract: "Distributed data-parallel GAN training in Swift.",
        version: version,
        subcommands: [
            Train.self, Sample.self, Inspect.self, Evaluate.self, TrainClassifier.self, Bench.self, BenchKernels.self,
            SelfTest.self,
            ConfigKeys.self, Version.self,
        ])

    /// Output to a closed pipe (`swiftgan train ... | head`) must fail as a write, not kill the process. A
    /// file-system error is printed as its path and what is wrong, not as Foundation's error dump.
    static func main() {
        signal(SIGPIPE, SIG_IGN)
        do {
            var command = try parseAsRoot(nil)
            try command.run()
        } catch {
            exit(withError: FileProblem.message(error).map(CommandError.init) ?? error)
        }
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print SwiftGAN's version and the libraries it runs on.")

    func run() {
        print("swiftgan \(SwiftGAN.version)")
        print("MPI: \(mpiLibraryVersion())")
    }
}

/// The MPI implementation's own version string; callable before MPI_Init.
func mpiLibraryVersion() -> String {
    var buffer = [CChar](repeating: 0, count: Int(swiftgan_max_library_version_string()))
    var length: Int32 = 0
    MPI_Get_library_version(&buffer, &length)
    let text = String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return text.split(separator: "\n").first.map(String.init) ?? text
}

/// A failure while running a command (as opposed to a malformed command line): printed without the usage text.
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Every config key with its default, what it accepts and what it means (docs/configuration.md holds the same).
struct ConfigKeys: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config-keys",
        abstract: "Print every config key, its default, what it accepts and what it means (Markdown).")

    func run() { print(TrainingConfig.keyReference, terminator: "") }
}
