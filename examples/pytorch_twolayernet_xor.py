"""Text 003, §13.1 "Same Network in PyTorch": the TwoLayerNet on XOR, unchanged except `import torch` →
`import chainrule as torch` (chainrule keeps PyTorch's names), then §13.2's inspection of param and grad shapes.

With only 4 ReLU units and lr = 1.0 the result depends on the initial weights: seeds 0, 1, 2, 4, 5 solve XOR,
seed 3 ends in a local minimum where ReLUs died (predictions 0, 0.667, 0.667, 0.667) — the dead-ReLU failure the
texts describe; `cr.diagnose.GradientMonitor` reports it. The text's grad norms (0.0021 …) come from its own run;
after 10,000 epochs on a solved problem they are near 0 here."""
import chainrule as torch
import chainrule.nn as nn


class TwoLayerNet(nn.Module):
    def __init__(self, n_x, n_h, n_y):
        super().__init__()
        self.layer1 = nn.Linear(n_x, n_h)  # W1, b1
        self.layer2 = nn.Linear(n_h, n_y)  # W2, b2
        self.relu = nn.ReLU()
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        z1 = self.layer1(x)
        a1 = self.relu(z1)
        z2 = self.layer2(a1)
        a2 = self.sigmoid(z2)
        return a2


def main(epochs=10000, seed=0):
    torch.manual_seed(seed)
    X = torch.tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=torch.float32)
    Y = torch.tensor([[0], [1], [1], [0]], dtype=torch.float32)
    model = TwoLayerNet(n_x=2, n_h=4, n_y=1)
    criterion = nn.BCELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    for epoch in range(epochs):
        predictions = model(X)
        loss = criterion(predictions, Y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if epoch % 2000 == 0:
            print(f"Epoch {epoch:5d} | Loss: {loss.item():.6f}")
    with torch.no_grad():
        preds = model(X)
    print(f"\nPredictions: {preds.T.numpy().round(3)}")
    print(f"Truth: {Y.T.numpy()}")
    shapes = {}
    for name, param in model.named_parameters():       # §13.2: what loss.backward() leaves in .grad
        print(f"{name:15s} | param shape: {str(param.shape):12s} | grad shape: {str(param.grad.shape):12s} | "
              f"grad norm: {param.grad.norm().item():.4f}")
        shapes[name] = (param.shape, param.grad.shape)
    return {"predictions": preds.reshape(-1).tolist(), "final_loss": loss.item(), "shapes": shapes}


if __name__ == "__main__":
    main()
