"""Data: datasets, loaders and the texts' training variants (batch, minibatch, sgd, online)."""
from . import datasets
from .loader import (VARIANTS, ChainDataset, ConcatDataset, DataLoader, Dataset, IterableDataset, StackDataset, Subset,
                     TensorDataset, default_collate, default_convert, get_worker_info, make_loader, random_split)
from .sampler import (BatchSampler, DistributedSampler, RandomSampler, Sampler, SequentialSampler,
                      SubsetRandomSampler, WeightedRandomSampler)
