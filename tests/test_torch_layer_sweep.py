"""A sweep over torch's layers: each built with the same arguments as in torch, given torch's weights, run on the
same float64 input; outputs, the gradient of every input and parameter, and updated buffers (running statistics,
renormalised embeddings) equal torch's. Covers options the per-layer tests do not each repeat (ceil_mode, 'same'
padding with dilation and groups, padding modes, unbatched recurrent inputs, momentum=None ...)."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn

torch = pytest.importorskip("torch", reason="torch is the oracle here; pip install torch==2.13.0 to run these")


def X(*shape):
    return np.random.default_rng(0).standard_normal(shape)


CASES = [
("Linear",(4,3),{},[X(2,4)]),("Bilinear",(3,4,5),{},[X(2,3),X(2,4)]),
("Conv1d",(2,3,3),dict(padding=1,stride=2),[X(2,2,9)]),("Conv2d",(2,4,3),dict(padding='same',dilation=2,groups=2),[X(1,2,7,7)]),
("Conv3d",(1,2,2),{},[X(1,1,4,4,4)]),("ConvTranspose2d",(2,3,3),dict(stride=2,output_padding=1),[X(1,2,4,4)]),
("ConvTranspose1d",(2,2,3),dict(groups=2,dilation=2),[X(1,2,5)]),
("MaxPool2d",(3,),dict(stride=2,padding=1,ceil_mode=True),[X(1,2,7,7)]),("AvgPool2d",(3,),dict(stride=2,padding=1,count_include_pad=False),[X(1,2,7,7)]),
("AvgPool1d",(2,),{},[X(1,2,7)]),("MaxPool1d",(3,),dict(dilation=2),[X(1,2,9)]),("LPPool2d",(2,2),{},[X(1,2,4,4)]),
("AdaptiveAvgPool2d",((3,2),),{},[X(1,2,7,5)]),("AdaptiveMaxPool2d",(3,),{},[X(1,2,7,5)]),("AdaptiveAvgPool1d",(3,),{},[X(1,2,7)]),
("BatchNorm1d",(3,),{},[X(4,3)]),("BatchNorm2d",(3,),dict(momentum=None),[X(4,3,2,2)]),("LayerNorm",((3,4),),{},[X(2,3,4)]),
("GroupNorm",(2,4),{},[X(2,4,3)]),("InstanceNorm1d",(3,),dict(affine=True),[X(2,3,5)]),("RMSNorm",(4,),{},[X(2,4)]),
("LocalResponseNorm",(2,),{},[X(1,4,3,3)]),("Embedding",(5,3),dict(padding_idx=1),None),("EmbeddingBag",(5,3),dict(mode='mean'),None),
("PReLU",(3,),{},[X(2,3)]),("RReLU",(),{},[X(2,3)]),("GLU",(),{},[X(2,4)]),("Softmax2d",(),{},[X(1,2,3,3)]),
("LogSoftmax",(1,),{},[X(2,3)]),("Softmin",(1,),{},[X(2,3)]),("Hardtanh",(-0.5,0.5),{},[X(3,3)]),("Threshold",(0.1,20.),{},[X(3,3)]),
("CELU",(0.5,),{},[X(3,3)]),("SELU",(),{},[X(3,3)]),("SiLU",(),{},[X(3,3)]),("Mish",(),{},[X(3,3)]),("Hardswish",(),{},[X(3,3)]),
("Hardsigmoid",(),{},[X(3,3)]),("Softplus",(2.,5.),{},[X(3,3)]),("Softshrink",(0.3,),{},[X(3,3)]),("Hardshrink",(0.3,),{},[X(3,3)]),
("Tanhshrink",(),{},[X(3,3)]),("LogSigmoid",(),{},[X(3,3)]),("GELU",('tanh',),{},[X(3,3)]),("ELU",(0.7,),{},[X(3,3)]),
("PixelShuffle",(2,),{},[X(1,8,2,2)]),("PixelUnshuffle",(2,),{},[X(1,2,4,4)]),("Upsample",(),dict(scale_factor=2,mode='bilinear',align_corners=False),[X(1,2,3,3)]),
("Upsample",(),dict(size=(5,4),mode='bicubic',align_corners=True),[X(1,2,3,3)]),("Upsample",(),dict(scale_factor=1.5,mode='nearest'),[X(1,2,4,4)]),
("ZeroPad2d",((1,2,0,1),),{},[X(1,2,3,3)]),("ReflectionPad2d",(2,),{},[X(1,2,3,3)]),("ReplicationPad1d",((1,3),),{},[X(1,2,3)]),("CircularPad2d",(1,),{},[X(1,2,3,3)]),
("ConstantPad1d",(2,3.5),{},[X(1,2,3)]),("Unfold",((2,2),),dict(stride=1,padding=1),[X(1,2,3,3)]),("Fold",((4,4),(2,2)),{},[X(1,8,9)]),
("CosineSimilarity",(),{},[X(3,4),X(3,4)]),("PairwiseDistance",(),{},[X(3,4),X(3,4)]),("Flatten",(),{},[X(2,3,4)]),("Unflatten",(1,(2,2)),{},[X(3,4)]),
("ChannelShuffle",(2,),{},[X(1,4,2,2)]),("AdaptiveLogSoftmaxWithLoss",(8,10,[4,8]),{},None),
("GRUCell",(3,4),{},[X(2,3)]),("LSTMCell",(3,4),{},[X(2,3)]),("RNNCell",(3,4),dict(nonlinearity='relu'),[X(2,3)]),
("GRU",(3,4,2),dict(bidirectional=True,batch_first=True),[X(2,5,3)]),("RNN",(3,4),{},[X(5,2,3)]),("LSTM",(3,4),{},[X(5,3)]),
("TransformerDecoderLayer",(8,2,16),dict(dropout=0.0),[X(3,2,8),X(4,2,8)]),
("TransformerEncoderLayer",(8,2,16),dict(dropout=0.0,norm_first=True,activation='gelu'),[X(3,2,8)]),
("GRU",(3,4,2),dict(batch_first=True),[X(5,3)]),("LSTM",(3,4,2),dict(bidirectional=True),[X(5,3)]),
("MaxPool3d",(2,),{},[X(1,2,4,4,4)]),("AvgPool3d",(2,),dict(stride=1),[X(1,2,3,3,3)]),("AdaptiveAvgPool3d",(2,),{},[X(1,2,3,5,4)]),
("BatchNorm3d",(2,),{},[X(3,2,2,2,2)]),("InstanceNorm2d",(2,),dict(track_running_stats=True),[X(3,2,3,3)]),
("LeakyReLU",(0.2,),{},[X(3,3)]),("ReLU6",(),{},[X(3,3)*4]),("Softmax",(0,),{},[X(3,3)]),("Identity",(),{},[X(3,3)]),
("Embedding",(5,3),dict(max_norm=1.0),None),("EmbeddingBag",(5,3),dict(mode='max'),None),
("ConvTranspose3d",(1,2,2),dict(stride=2),[X(1,1,2,2,2)]),("Conv2d",(2,2,3),dict(padding=2,padding_mode='reflect'),[X(1,2,4,4)]),
("Conv1d",(2,2,3),dict(padding='same',padding_mode='circular'),[X(1,2,6)]),
]


def _flat(o):
    if isinstance(o, (tuple, list)):
        return [y for x in o for y in _flat(x)]
    if hasattr(o, "output") and hasattr(o, "loss"):   # AdaptiveLogSoftmaxWithLoss's named tuple
        return [o.output, o.loss]
    return [o]


def _inputs(name, inputs):
    if name in ("Embedding", "EmbeddingBag"):
        idx = np.array([[0, 1, 4], [2, 1, 3]])
        return [torch.tensor(idx)], [cr.tensor(idx)], []
    if name == "AdaptiveLogSoftmaxWithLoss":
        a, y = X(4, 8), [0, 5, 9, 3]
        return ([torch.tensor(a, requires_grad=True), torch.tensor(y)],
                [cr.tensor(a, requires_grad=True), cr.tensor(y)], [0])
    return ([torch.tensor(a, requires_grad=True) for a in inputs], [cr.tensor(a, requires_grad=True) for a in inputs],
            list(range(len(inputs))))


# torch's hardsigmoid backward multiplies by a float32 1/6, 3e-8 off in float64
RTOL = {"Hardsigmoid": 1e-7}


@pytest.mark.parametrize("name,args,kwargs,inputs", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_layer_matches_torch(name, args, kwargs, inputs):
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    ours = getattr(nn, name)(*args, **kwargs).double()
    ours.load_state_dict({k: cr.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    if name == "RReLU":   # random slopes in training; the mean slope in eval
        theirs.eval()
        ours.eval()
    t_in, c_in, with_grad = _inputs(name, inputs)
    t_out, c_out = _flat(theirs(*t_in)), _flat(ours(*c_in))
    assert len(c_out) == len(t_out)
    for a, b in zip(c_out, t_out):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-9, atol=1e-10)
    rng = np.random.default_rng(5)
    weights = [rng.standard_normal(tuple(b.shape)) for b in t_out]
    sum((b * torch.tensor(w)).sum() for b, w in zip(t_out, weights)).backward()
    sum((a * cr.tensor(w)).sum() for a, w in zip(c_out, weights)).backward()
    rtol = RTOL.get(name, 1e-8)
    for i in with_grad:
        np.testing.assert_allclose(c_in[i].grad.numpy(), t_in[i].grad.numpy(), rtol=rtol, atol=1e-10)
    t_params = dict(theirs.named_parameters())
    for n, p in ours.named_parameters():
        if p.grad is None and t_params[n].grad is None:
            continue
        np.testing.assert_allclose(p.grad.numpy(), t_params[n].grad.numpy(), rtol=rtol, atol=1e-10, err_msg=n)
    ours_buffers = dict(ours.named_buffers())
    for n, b in theirs.named_buffers():
        if b is not None and b.dtype.is_floating_point:
            np.testing.assert_allclose(ours_buffers[n].numpy(), b.numpy(), rtol=1e-10, err_msg=n)
    for n, p in theirs.named_parameters():   # Embedding(max_norm=…) renormalises its weight rows in place
        np.testing.assert_allclose(dict(ours.named_parameters())[n].detach().numpy(), p.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
def test_unbatched_recurrent_input_with_initial_state_matches_torch(mode):
    theirs = getattr(torch.nn, mode)(3, 4, 2, batch_first=True).double()
    ours = getattr(nn, mode)(3, 4, 2, batch_first=True).double()
    ours.load_state_dict({k: cr.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x, h = X(5, 3), X(2, 4) * 0.5
    hx_t = (torch.tensor(h), torch.tensor(-h)) if mode == "LSTM" else torch.tensor(h)
    hx_c = (cr.tensor(h), cr.tensor(-h)) if mode == "LSTM" else cr.tensor(h)
    out_t, state_t = theirs(torch.tensor(x), hx_t)
    out_c, state_c = ours(cr.tensor(x), hx_c)
    assert tuple(out_c.shape) == tuple(out_t.shape) == (5, 4)
    np.testing.assert_allclose(out_c.detach().numpy(), out_t.detach().numpy(), rtol=1e-10)
    for a, b in zip(_flat(state_c), _flat(state_t)):
        assert tuple(a.shape) == tuple(b.shape) == (2, 4)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10)
