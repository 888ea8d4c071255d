"""Live resource type declarations, one module per AWS service."""
