"""Samplers and the DataLoader's sampler / batch_sampler / batch_size=None, as torch.utils.data."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.data import (BatchSampler, DataLoader, RandomSampler, SequentialSampler, SubsetRandomSampler,
                            TensorDataset, WeightedRandomSampler)


def _ds(n=10):
    return TensorDataset(cr.arange(n), cr.arange(n) * 10)


def test_sequential_and_random_samplers():
    ds = _ds()
    assert list(SequentialSampler(ds)) == list(range(10))
    order = list(RandomSampler(ds, generator=cr.Generator().manual_seed(0)))
    assert sorted(order) == list(range(10)) and order != list(range(10))
    drawn = list(RandomSampler(ds, replacement=True, num_samples=25))
    assert len(drawn) == 25 and all(0 <= i < 10 for i in drawn)
    assert sorted(list(RandomSampler(ds, num_samples=15))[:10]) == list(range(10))   # whole permutations first
    assert sorted(SubsetRandomSampler([3, 5, 7])) == [3, 5, 7]


def test_weighted_sampler_balances_classes():
    labels = np.array([0] * 90 + [1] * 10)
    weights = 1.0 / np.bincount(labels)[labels]
    cr.manual_seed(0)
    draws = np.array(list(WeightedRandomSampler(weights, 20_000)))
    share = labels[draws].mean()
    assert abs(share - 0.5) < 0.02, share
    once = list(WeightedRandomSampler([1.0, 2.0, 0.0, 3.0], 3, replacement=False))
    assert sorted(once) == [0, 1, 3]


def test_dataloader_with_sampler_batch_sampler_and_unbatched():
    ds = _ds()
    loader = DataLoader(ds, batch_size=4, sampler=SequentialSampler(ds), drop_last=True)
    assert len(loader) == 2
    assert [b[0].tolist() for b in loader] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    batches = BatchSampler(SequentialSampler(ds), 3, drop_last=False)
    loader = DataLoader(ds, batch_sampler=batches)
    assert len(loader) == 4 and [b[1].tolist() for b in loader][-1] == [90]
    single = list(DataLoader(ds, batch_size=None))
    assert len(single) == 10 and single[3][1].item() == 30
    x, y = next(iter(DataLoader(ds, 5, False)))                  # torch's positional order
    assert x.tolist() == [0, 1, 2, 3, 4]


def test_dataloader_matches_torch_order_for_the_same_indices():
    torch = pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")
    idx = [7, 2, 9, 0, 4, 4, 1]
    ours = [b[0].tolist() for b in DataLoader(_ds(), batch_size=3, sampler=idx)]
    theirs = [b[0].tolist() for b in torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.arange(10), torch.arange(10)), batch_size=3, sampler=idx)]
    assert ours == theirs


def test_named_errors():
    ds = _ds()
    with pytest.raises(ValueError, match="sampler and shuffle=True are mutually exclusive"):
        DataLoader(ds, sampler=SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler gives whole batches"):
        DataLoader(ds, batch_size=4, batch_sampler=BatchSampler(SequentialSampler(ds), 2, False))
    with pytest.raises(ValueError, match="WeightedRandomSampler: weights"):
        WeightedRandomSampler([1.0, -1.0], 2)
    with pytest.raises(ValueError, match="without replacement"):
        WeightedRandomSampler([1.0, 0.0], 2, replacement=False)


@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (10, 3, True), (9, 3, False), (2, 4, False),
                                                  (11, 4, True)])
def test_distributed_sampler_shares_the_data_as_torch(n, replicas, drop_last):
    data = list(range(n))
    shares = [list(cr.utils.data.DistributedSampler(data, replicas, r, shuffle=False, drop_last=drop_last))
              for r in range(replicas)]
    torch = pytest.importorskip("torch", reason="torch is the oracle for the unshuffled order")
    assert shares == [list(torch.utils.data.DistributedSampler(data, replicas, r, shuffle=False, drop_last=drop_last))
                      for r in range(replicas)]


def test_distributed_sampler_shuffles_by_epoch_the_same_on_every_replica():
    data = list(range(12))
    samplers = [cr.utils.data.DistributedSampler(data, 3, r, seed=5) for r in range(3)]
    first = [list(s) for s in samplers]
    assert sorted(sum(first, [])) == data   # together the replicas read every sample once
    for s in samplers:
        s.set_epoch(1)
    second = [list(s) for s in samplers]
    assert second != first and sorted(sum(second, [])) == data
    assert [list(s) for s in samplers] == second   # the same epoch, the same order
    loader = cr.utils.data.DataLoader(cr.utils.data.TensorDataset(cr.arange(12)), batch_size=2, sampler=samplers[0])
    assert sorted(int(v) for (b,) in loader for v in b.numpy()) == sorted(second[0])
    with pytest.raises(RuntimeError, match="pass them explicitly"):
        cr.utils.data.DistributedSampler(data)
    with pytest.raises(ValueError, match="invalid rank 3"):
        cr.utils.data.DistributedSampler(data, 3, 3)
    assert not cr.distributed.is_available() and not cr.distributed.is_initialized()
