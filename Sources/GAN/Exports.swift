// `import GAN` brings the engine and the layers too.
@_exported import NN
