"""Using a trained model: predict, generate, translate, forecast, features, attention and export."""
