"""HTTP server speaking the Hugging Face Inference API for zero-shot classification (needs zsc-onnx[serve])."""
