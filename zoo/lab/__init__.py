"""Many runs compared: `compare` (a grid of overrides) and `tune` (keras-tuner search), sharing one train-and-record."""
