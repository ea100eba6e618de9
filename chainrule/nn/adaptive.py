"""AdaptiveLogSoftmaxWithLoss (Grave et al., "Efficient softmax approximation for GPUs", 2017), torch's module:
the frequent classes (below cutoffs[0]) and one entry per tail cluster share a head softmax; a class in cluster i
gets log p = log p_head(cluster i) + log p_cluster_i(class), its cluster's softmax computed from a smaller
projection (in_features / div_valueⁱ⁺¹ wide), and only for the rows whose targets fall in that cluster."""
import collections

import numpy as np

from .. import creation
from ..errors import ShapeError
from ..ops.reduce import log_softmax
from ..ops.shape import cat
from .containers import ModuleList, Sequential
from .layers import Linear
from .module import Module
from ..ops._util import as_array

_ASMoutput = collections.namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    def __init__(self, in_features, n_classes, cutoffs, div_value=4.0, head_bias=False):
        super().__init__()
        cutoffs = list(cutoffs)
        if (not cutoffs or cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted in an increasing "
                             "order, where each value is between 1 and n_classes-1")
        self.in_features, self.n_classes, self.div_value, self.head_bias = in_features, n_classes, div_value, head_bias
        self.cutoffs = cutoffs + [n_classes]
        self.shortlist_size, self.n_clusters = self.cutoffs[0], len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hsz = int(in_features // (div_value ** (i + 1)))
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hsz, bias=False), Linear(hsz, osz, bias=False)))

    def forward(self, input_, target_):
        """(output, loss): the log-probability of each row's target class, and their negative mean."""
        unbatched = target_.ndim == 0
        if unbatched:
            input_, target_ = input_.unsqueeze(0), target_.unsqueeze(0)
        if input_.ndim != 2 or target_.ndim != 1 or input_.shape[0] != target_.shape[0]:
            raise ShapeError(f"AdaptiveLogSoftmaxWithLoss: expected input (N, {self.in_features}) and target (N,), "
                             f"got {input_.shape} and {target_.shape}")
        t = as_array(target_)
        if t.size and (t.min() < 0 or t.max() >= self.n_classes):
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                               f"[{t.min()}, {t.max()}] were found. ")
        head_index = t.copy()
        output = None
        for i, (low, high) in enumerate(zip(self.cutoffs, self.cutoffs[1:])):
            rows = np.flatnonzero((t >= low) & (t < high))
            if rows.size == 0:
                continue
            head_index[rows] = self.shortlist_size + i
            picked = creation.tensor(rows)
            local = log_softmax(self.tail[i](input_.index_select(0, picked)), 1)
            local = local.gather(1, creation.tensor(t[rows] - low).unsqueeze(1)).squeeze(1)
            part = creation.zeros(t.size, dtype=input_.dtype).index_add(0, picked, local)
            output = part if output is None else output + part
        head = log_softmax(self.head(input_), 1).gather(1, creation.tensor(head_index).unsqueeze(1)).squeeze(1)
        output = head if output is None else head + output
        loss = (-output).mean()
        return _ASMoutput(output.squeeze(0) if unbatched else output, loss)

    def log_prob(self, input):
        """log p of every class for each row of input, (N, n_classes)."""
        head = log_softmax(self.head(input), 1)
        parts = [head[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            parts.append(log_softmax(self.tail[i](input), 1) + head[:, self.shortlist_size + i].unsqueeze(1))
        return cat(parts, 1)

    def predict(self, input):
        """The most probable class of each row."""
        return self.log_prob(input).argmax(1)
