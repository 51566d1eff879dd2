// swift-tools-version:6.0
// SwiftGAN: distributed data-parallel GAN training in Swift (see README.md).
import PackageDescription

/// The engine's kernels run their loops on raw pointers; `-Ounchecked` drops the overflow and bounds checks
/// that would otherwise dominate them. Only `Tensor` gets it: the other targets parse files (safetensors, IDX,
/// configs, .npy) and keep every check. Debug builds keep every check everywhere.
let uncheckedInRelease: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]

let package = Package(
    name: "SwiftGAN",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "swiftgan", targets: ["swiftgan"]),
        .library(name: "Tensor", targets: ["Tensor"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Distributed", targets: ["Distributed"]),
        .library(name: "GAN", targets: ["GAN"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .systemLibrary(
            name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // CUDA's driver API, NVRTC and cuBLAS, loaded at run time (dlopen): nothing of CUDA is needed to build.
        .target(name: "CCUDA", linkerSettings: [.linkedLibrary("dl")]),
        // PNG and JPEG decoding for image folders (libpng-dev, libjpeg-dev: libjpeg-turbo).
        .target(name: "CImageCodecs", linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg")]),
        // Loops Swift cannot vectorise or runs only four lanes wide (CKernels.h says which and why).
        .target(name: "CKernels"),
        .target(name: "Tensor", dependencies: ["CBLAS", "CCUDA", "CKernels"], swiftSettings: uncheckedInRelease),
        .target(name: "NN", dependencies: ["Tensor"]),
        .target(name: "Distributed", dependencies: ["NN", "CMPI"]),
        .target(name: "GAN", dependencies: ["NN", "Distributed", "CZlib", "CImageCodecs", "Yams"]),
        // Fixture loading, comparisons and gradient checks shared by the test targets.
        .target(name: "TestSupport", dependencies: ["NN", "Tensor"], path: "Tests/Support"),
        .executableTarget(
            name: "swiftgan",
            dependencies: [
                "Tensor", "NN", "Distributed", "GAN", "CMPI", "CBLAS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "TestSupport"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Tensor", "TestSupport"]),
        .testTarget(name: "GANTests", dependencies: ["GAN", "NN", "TestSupport"]),
        .testTarget(name: "DistributedTests", dependencies: ["Distributed", "GAN", "NN", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
