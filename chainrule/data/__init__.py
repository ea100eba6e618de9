"""Data: datasets, loaders and the texts' training variants (batch, minibatch, sgd, online)."""
from . import datasets
from .loader import (VARIANTS, ConcatDataset, DataLoader, Dataset, IterableDataset, Subset, TensorDataset, make_loader,
                     random_split)
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                      WeightedRandomSampler)
