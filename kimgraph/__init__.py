"""KIMgraph: a real-time GraphQL server for Kelompok Informasi Masyarakat."""

__version__ = "0.1.0"
