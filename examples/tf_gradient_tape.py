"""Text 000, "Code Example" (TensorFlow GradientTape): Dense(10→5, ReLU) → Dense(1), SGD(0.01), MSE on random
(3, 10) inputs — the same training step the chainrule way (loss.backward() replaces tape.gradient, and
optimizer.step() replaces apply_gradients)."""
import chainrule as cr
import chainrule.nn as nn


def main(steps=5):
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 5), nn.ReLU(), nn.Linear(5, 1))
    optimizer = cr.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.MSELoss()
    inputs, targets = cr.randn(3, 10), cr.randn(3, 1)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        outputs = model(inputs)                  # forward pass ("within GradientTape")
        loss = loss_fn(outputs, targets)
        loss.backward()                          # tape.gradient(loss, model.trainable_variables)
        optimizer.step()                         # optimizer.apply_gradients(zip(gradients, variables))
        losses.append(loss.item())
        print(f"loss {loss.item():.6f}")
    grads = {n: tuple(p.grad.shape) for n, p in model.named_parameters()}
    return {"losses": losses, "grad_shapes": grads}


if __name__ == "__main__":
    main()
