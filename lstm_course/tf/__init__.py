"""TensorFlow / Keras 3 implementations. Importing this subpackage imports TensorFlow."""
