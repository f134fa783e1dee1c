"""Chapter 7: sentiment classification of Chinese product reviews with an LSTM/BiLSTM.

Modules, one job each: :mod:`.model` (the network), :mod:`.batching` (bucketed, padded batches),
:mod:`.inference` (batched logits and probabilities, no gradients: what training, evaluation and
prediction all run), :mod:`.train` (``fit``), :mod:`.evaluate` (metrics, tables, plots, averaging
an ensemble), :mod:`.checkpoint` (safe save/load), :mod:`.predict` (raw text in, label and
probability out) and :mod:`.pipeline` (profile defaults and the end-to-end calls the notebooks
and the CLI share).  Transfer learning (ULMFiT): :mod:`.pretrain` (a review language model on the
training split's text) and :mod:`.transfer` (its weights in the classifier, fine-tuning schedules).
Data handling lives in :mod:`lstm_course.data.reviews` (reading, cleaning, splitting, encoding)
and :mod:`lstm_course.data.review_tokens` (tokenising).
"""

from lstm_course.data.review_tokens import TokenizerConfig
from lstm_course.torch.sentiment.checkpoint import (
    CheckpointError,
    SentimentCheckpoint,
    load_checkpoint,
    save_checkpoint,
)
from lstm_course.torch.sentiment.evaluate import (
    Evaluation,
    average,
    evaluate,
    plot_confusion,
    plot_per_category,
    wilson_interval,
)
from lstm_course.torch.sentiment.inference import positive_probabilities, predict_logits
from lstm_course.torch.sentiment.model import SentimentConfig, SentimentLSTM
from lstm_course.torch.sentiment.pipeline import (
    DataSettings,
    PreparedData,
    configure_cpu_threads,
    data_settings,
    default_checkpoint,
    encode_split,
    model_config,
    prepare_data,
    save_trained,
    train_config,
    train_model,
)
from lstm_course.torch.sentiment.predict import Prediction, SentimentEnsemble, SentimentPredictor
from lstm_course.torch.sentiment.pretrain import (
    PretrainConfig,
    ReviewLM,
    ReviewLMCheckpoint,
    ReviewLMConfig,
    generate_review,
    load_lm,
    pretrain_lm,
    save_lm,
)
from lstm_course.torch.sentiment.train import History, TrainConfig, fit, loss_and_accuracy
from lstm_course.torch.sentiment.transfer import (
    TransferConfig,
    ULMFiTSchedule,
    fine_tune,
    train_from_lm,
    transfer_weights,
)

__all__ = [
    "CheckpointError",
    "DataSettings",
    "Evaluation",
    "History",
    "Prediction",
    "PreparedData",
    "PretrainConfig",
    "ReviewLM",
    "ReviewLMCheckpoint",
    "ReviewLMConfig",
    "SentimentCheckpoint",
    "SentimentConfig",
    "SentimentEnsemble",
    "SentimentLSTM",
    "SentimentPredictor",
    "TokenizerConfig",
    "TrainConfig",
    "TransferConfig",
    "ULMFiTSchedule",
    "average",
    "configure_cpu_threads",
    "data_settings",
    "default_checkpoint",
    "encode_split",
    "evaluate",
    "fine_tune",
    "fit",
    "generate_review",
    "load_checkpoint",
    "load_lm",
    "loss_and_accuracy",
    "model_config",
    "plot_confusion",
    "plot_per_category",
    "positive_probabilities",
    "predict_logits",
    "prepare_data",
    "pretrain_lm",
    "save_checkpoint",
    "save_lm",
    "save_trained",
    "train_config",
    "train_from_lm",
    "train_model",
    "transfer_weights",
    "wilson_interval",
]
