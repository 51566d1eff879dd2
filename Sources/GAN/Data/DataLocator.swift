import Distributed
import Foundation

/// Finds the data a config asks for: `--data DIR`, else the config's `data.directory`, else the shipped
/// `Data/<dataset>`; IDX files there, or a folder of images (`data.format`). Says, in `notices`, whenever it
/// uses something other than what was asked for, and what it decoded or skipped.
public struct DataLocator {
    public var training: ImageDataset
    public var test: ImageDataset?
    public var notices: [String] = []

    public init(
        config: TrainingConfig, directory override: String? = nil, communicator: Communicator = LocalCommunicator()
    ) throws {
        let files = FileManager.default
        let explicit = override ?? (config.data.directory.isEmpty ? nil : config.data.directory)
        var directory = URL(fileURLWithPath: explicit ?? "Data/\(config.data.dataset.rawValue)")
        func has(_ split: ImageDataset.Split) -> Bool {
            let prefix = split == .train ? "train" : "t10k"
            return ["", ".gz"].contains {
                files.fileExists(atPath: directory.appendingPathComponent("\(prefix)-images-idx3-ubyte\($0)").path)
            }
        }
        if config.data.format == .folder || (config.data.format == .auto && !has(.train) && !has(.test)),
            explicit != nil
        {
            let folder = try ImageFolder(scanning: directory)
            if config.model.classes > 0, folder.classes.isEmpty {
                throw ImageFolder.Failure(
                    description: "\(directory.path) has no class subfolders, so its images have no labels; "
                        + "model.classes: \(config.model.classes) needs one subfolder per class")
            }
            (training, notices) = try ImageCache.load(
                folder, transform: ImageTransform(size: config.data.imageSize, channels: config.data.channels),
                in: ImageCache.directory(config.data.cache), strict: config.data.strict, communicator: communicator)
            if folder.otherFiles > 0 {
                notices.append(
                    "left out \(folder.otherFiles) file\(folder.otherFiles == 1 ? "" : "s") of \(directory.path) "
                        + "not named .png, .jpg or .jpeg")
            }
            test = nil
            return
        }
        if config.data.format == .folder {
            throw ImageFolder.Failure(description: "data.format: folder needs --data DIR or data.directory")
        }
        if config.data.channels != 1 {
            throw ImageFolder.Failure(
                description:
                    "IDX files hold greyscale images: data.channels: \(config.data.channels) needs an image folder")
        }
        if config.data.dataset == .fashionMNIST, explicit == nil, !has(.train), !has(.test) {
            notices.append(
                "Fashion-MNIST is not in \(directory.path); training on MNIST instead "
                    + "(Launch/fetch-data fashion-mnist \(directory.path) fetches it where the internet is reachable)")
            directory = URL(fileURLWithPath: "Data/mnist")
        }
        switch (has(.train), has(.test)) {
        case (true, _):
            training = try ImageDataset.load(directory: directory, split: .train, imageSize: config.data.imageSize)
            test =
                has(.test)
                ? try ImageDataset.load(directory: directory, split: .test, imageSize: config.data.imageSize) : nil
        case (false, true):
            training = try ImageDataset.load(directory: directory, split: .test, imageSize: config.data.imageSize)
            test = nil
            notices.append(
                "\(directory.path) holds only the test split: training on its \(training.count) images, with no held-out "
                    + "evaluation (--data DIR with the full set trains on 60,000)")
        case (false, false):
            throw IDXFile.ReadError.unreadable(
                path: directory.path,
                reason: "no train-images-idx3-ubyte[.gz] or t10k-images-idx3-ubyte[.gz] there "
                    + "(Launch/fetch-data \(config.data.dataset.rawValue) \(directory.path) downloads them)")
        }
    }
}
