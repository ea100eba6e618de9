"""Data: datasets, loaders and the texts' training variants (batch, minibatch, sgd, online)."""
from . import datasets
from .loader import VARIANTS, DataLoader, Dataset, IterableDataset, TensorDataset, make_loader
