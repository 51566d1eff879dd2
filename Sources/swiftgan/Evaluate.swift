import ArgumentParser
import Foundation
import GAN

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Score a checkpoint's samples: FID, KID, IS, class histogram, label accuracy.")
    func run() throws {}
}
