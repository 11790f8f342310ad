"""The page's sections, in the order of MIT 6.S191's lectures 1-2: the words of the page.

Each section names the idea in a few sentences, the recipes that teach it, a
command a learner can run to see the idea happen, the live cell that runs in
the page (zoo/page/static/page.js), and the figures from docs/ that real runs
drew (each with the command that drew it). The numbers come from the cards at
build time; nothing here is a number.
"""

SECTIONS = (
    {
        "id": "perceptron",
        "title": "1. The perceptron, and why XOR needs a hidden layer",
        "idea": (
            "A perceptron weighs its inputs, adds a bias and passes the sum through a nonlinearity. "
            "Its decision boundary is one straight line, so it can learn AND and OR but never XOR, whose "
            "two classes no single line separates. One hidden layer of perceptrons bends the boundary: "
            "each hidden unit draws a line, and the output unit combines them."
        ),
        "recipes": ("perceptron_gates",),
        "try": 'make train MODEL=perceptron_gates ARGS="gate=xor hidden_units=0"   # a single perceptron: can it learn XOR?',
        "cell": "gates",
        "figures": (),
    },
    {
        "id": "hidden",
        "title": "2. Hidden layers bend the decision boundary",
        "idea": (
            "Stack layers of perceptrons and the boundary can curve around any shape, given enough units. "
            "playground_mlp learns TensorFlow Playground's two interleaved spirals. The boundary below is "
            "recomputed in your browser from the shipped weights; click anywhere to classify a point."
        ),
        "recipes": ("playground_mlp",),
        "try": 'make train MODEL=playground_mlp ARGS="depth=1 hidden_units=4"   # too small a network: the spirals defeat it',
        "cell": "boundary",
        "figures": (),
    },
    {
        "id": "losses",
        "title": "3. Losses: how wrong is the network?",
        "idea": (
            "Training needs one number that says how wrong the network is. For a yes/no answer that is the "
            "binary cross-entropy of the predicted probability; for a number it is the mean squared error. "
            "The cell recomputes each model's test loss in your browser, example by example, from its "
            "shipped weights: it should equal the card's."
        ),
        "recipes": ("binary_mlp", "regression_mlp"),
        "try": 'make compare MODEL=binary_mlp ARGS="learning_rate=0.0001,0.001,0.1"   # the loss curves of three step sizes',
        "cell": "losses",
        "figures": (),
    },
    {
        "id": "training",
        "title": "4. Gradient descent: optimizers, learning rate, mini-batches, dropout, early stopping",
        "idea": (
            "Gradient descent steps downhill on the loss. How big a step (the learning rate), which direction "
            "(plain SGD, momentum, Adam), and how many examples estimate the slope (the batch size) decide "
            "whether it converges, crawls or diverges. Dropout and early stopping keep a large network from "
            "memorizing its training set. The figures are real runs of the zoo's compare and tune commands."
        ),
        "recipes": ("digits_mlp", "playground_mlp"),
        "try": 'make compare MODEL=digits_mlp ARGS="dropout=0,0.5 hidden_units=512 depth=3 patience=0 epochs=40"   # overfitting, side by side',
        "cell": "descent",
        "figures": (
            ("img/digits_mlp_optimizer.png", "optimizers on digits_mlp",
             "python -m zoo compare digits_mlp optimizer=sgd,momentum,adam,adagrad,adadelta,rmsprop epochs=15"),
            ("img/digits_mlp_learning_rate_sgd.png", "learning rates with SGD: from crawling to divergence",
             "python -m zoo compare digits_mlp learning_rate=0.01,0.1,1,10,100 optimizer=sgd epochs=15"),
            ("img/playground_mlp_batch_size.png", "batch size: stochastic, mini-batch and full-batch",
             "python -m zoo compare playground_mlp batch_size=1,32,full epochs=20"),
            ("img/digits_mlp_dropout_patience0.png", "dropout on an over-parameterized network, no early stopping",
             "python -m zoo compare digits_mlp dropout=0,0.5 hidden_units=512 depth=3 patience=0 epochs=40"),
            ("img/digits_mlp_dropout_patience5.png", "the same with early stopping (patience 5)",
             "python -m zoo compare digits_mlp dropout=0,0.5 hidden_units=512 depth=3 patience=5 epochs=40"),
            ("img/digits_mlp_search.png", "hyperparameter search: random against Bayesian",
             "python -m zoo tune digits_mlp --search bayesian --trials 12 epochs=10"),
        ),
    },
    {
        "id": "vision",
        "title": "5. Digits with an MLP and a CNN, and the features the CNN learned",
        "idea": (
            "An MLP sees a digit as 64 unrelated numbers. A convolutional network slides small learned "
            "filters over the image, so the same stroke detector works anywhere, and pooling makes it "
            "tolerant of small shifts. Draw a digit: both networks answer, and the CNN shows what each of "
            "its first filters saw in your drawing."
        ),
        "recipes": ("digits_mlp", "digits_cnn"),
        "try": 'make train MODEL=digits_cnn ARGS="filters=4"   # fewer filters: how much does accuracy drop?',
        "cell": "digits",
        "figures": (
            ("features/features_conv_1.png", "digits_cnn's first-layer feature maps for a test digit",
             "python -m zoo features digits_cnn --pretrained --input docs/digit_5.csv --out docs/features"),
            ("features/top_images_conv_3.png", "the test digits that excite each third-layer filter most",
             "python -m zoo features digits_cnn --pretrained --input docs/digit_5.csv --out docs/features"),
        ),
    },
    {
        "id": "music",
        "title": "6. RNN and LSTM music: sequences, backpropagation through time, clipping",
        "idea": (
            "A recurrent network reads a tune one character at a time and carries a hidden state forward; "
            "trained to predict the next character, it can then write tunes of its own. Backpropagation "
            "through time multiplies gradients across every step, so they can explode: the zoo's RNNCell "
            "clips them at each step. The LSTM's gates let information survive long stretches. Sample a "
            "tune: it is drawn here, from the shipped weights, then engraved and played by abcjs."
        ),
        "recipes": ("music_rnn", "music_lstm", "music_transformer"),
        "try": 'make train MODEL=music_rnn ARGS="step_clip=0 grad_clip_norm=0"   # no clipping: watch for exploding gradients',
        "cell": "music",
        "figures": (),
    },
    {
        "id": "attention",
        "title": "7. Self-attention: every position looks at every earlier one",
        "idea": (
            "Instead of squeezing the past into one state, self-attention lets each position ask every "
            "earlier position a question (its query), compare it with what each offers (their keys) and "
            "take a weighted mix of their values. Positional embeddings tell it where each token is. Type "
            "some ABC and see where music_transformer's heads look."
        ),
        "recipes": ("music_transformer",),
        "try": 'make attention MODEL=music_transformer ARGS=\'--pretrained --text "X:1\\nK:D\\n|:dAFA dAFA|" --block 2\'',
        "cell": "attention",
        "figures": (),
    },
    {
        "id": "many-to-one",
        "title": "8. Many-to-one: what kind of tune is this?",
        "idea": (
            "A many-to-one model reads a whole sequence and gives one answer. Here an LSTM (its last state) "
            "and a transformer (its averaged outputs) read a tune's notes and name its type: reel, jig, "
            "hornpipe, polka, slide, set dance or other. Paste a tune, or sample one in section 6 and send it here."
        ),
        "recipes": ("sentiment_lstm", "sentiment_transformer"),
        "try": 'make train MODEL=sentiment_transformer ARGS="num_blocks=1"',
        "cell": "tunetype",
        "figures": (),
    },
    {
        "id": "many-to-many",
        "title": "9. Many-to-many: translation and its bottleneck, and forecasting against the statisticians",
        "idea": (
            "An encoder-decoder reads one sequence and writes another. translate_lstm must squeeze the whole "
            "English sentence into one final state, a bottleneck that hurts on long sentences; attention "
            "lets the decoder look back at every source word, and the transformer does only that. Forecasting "
            "is many-to-many too: months in, the next 12 out, against the seasonal ARIMA models statisticians use; "
            "forecast_hybrid averages the airline SARIMAX's forecast with an LSTM's and beats both in test MAE."
        ),
        "recipes": ("translate_lstm", "translate_lstm_attention", "translate_transformer", "forecast_lstm", "forecast_hybrid"),
        "try": "python -m zoo translate translate_lstm --pretrained --text 'nine hundred and ninety-nine million, nine hundred and ninety-nine thousand, nine hundred and ninety-nine'",
        "cell": "translate forecast",
        "figures": (
            ("translate/buckets.png", "exact match by source length: the LSTM's bottleneck",
             ".venv/bin/python benchmarks/translate_buckets.py"),
            ("forecast/forecast.png", "forecast_hybrid against the airline SARIMAX on the test years, and every model's MAE by months ahead",
             ".venv/bin/python benchmarks/forecast_peers.py"),
        ),
    },
)
