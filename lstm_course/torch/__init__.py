"""PyTorch implementations: scratch cells (explicit weights), fused variants, stacks, models.

Importing this subpackage imports PyTorch.
"""
