"""Search service: owns the vector collections (Milvus) and answers nearest-clip searches."""
