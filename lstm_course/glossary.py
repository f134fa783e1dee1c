"""The course's Chinese–English glossary, with the terms d2l-zh uses where they differ.

One list serves three purposes: the glossary page of the book, the self-checks' messages,
and the book's search index (each Chinese term is added to jieba's dictionary at build time
so that searching for e.g. 循环神经网络 finds the pages that use it).
"""

from __future__ import annotations

from typing import NamedTuple


class Term(NamedTuple):
    """One glossary entry: our Chinese term, the English term, d2l-zh's term (if different)."""

    zh: str
    en: str
    d2l_zh: str = ""


GLOSSARY: tuple[Term, ...] = (
    Term("循环神经网络", "recurrent neural network (RNN)"),
    Term("长短期记忆网络", "long short-term memory (LSTM)"),
    Term("门控循环单元", "gated recurrent unit (GRU)"),
    Term("隐状态", "hidden state"),
    Term("细胞状态", "cell state", "记忆元"),
    Term("记忆元", "memory cell"),
    Term("候选记忆元", "candidate memory cell"),
    Term("遗忘门", "forget gate"),
    Term("输入门", "input gate"),
    Term("输出门", "output gate"),
    Term("重置门", "reset gate"),
    Term("更新门", "update gate"),
    Term("时间步", "time step"),
    Term("通过时间反向传播", "backpropagation through time (BPTT)"),
    Term("梯度消失", "vanishing gradient"),
    Term("梯度爆炸", "exploding gradient"),
    Term("梯度裁剪", "gradient clipping"),
    Term("谱半径", "spectral radius"),
    Term("雅可比矩阵", "Jacobian matrix"),
    Term("有限差分", "finite differences"),
    Term("梯度检验", "gradient check"),
    Term("加法问题", "adding problem"),
    Term("语言模型", "language model"),
    Term("困惑度", "perplexity"),
    Term("词表", "vocabulary"),
    Term("词元", "token"),
    Term("词元化", "tokenization"),
    Term("随机采样", "random sampling"),
    Term("顺序分区", "sequential partitioning"),
    Term("独热编码", "one-hot encoding"),
    Term("嵌入层", "embedding layer"),
    Term("温度采样", "temperature sampling"),
    Term("候选隐状态", "candidate hidden state"),
    Term("深层循环神经网络", "deep RNN", "深度循环神经网络"),
    Term("双向循环神经网络", "bidirectional RNN"),
    Term("信息泄漏", "information leakage"),
    Term("情感分析", "sentiment analysis"),
    Term("打包序列", "packed sequence"),
    Term("填充", "padding"),
    Term("掩码", "mask", "掩蔽"),
    Term("dropout", "dropout", "暂退法"),
    Term("权重衰减", "weight decay"),
    Term("过拟合", "overfitting"),
    Term("吞吐量", "throughput"),
    Term("延迟", "latency"),
    Term("融合核函数", "fused kernel"),
    Term("流式处理", "streaming"),
    Term("注意力机制", "attention mechanism"),
    Term("自注意力", "self-attention"),
    Term("键值缓存", "key-value cache (KV cache)"),
    Term("因果掩码", "causal mask"),
    Term("位置编码", "positional encoding"),
    Term("行向量约定", "row-vector convention"),
    Term("持续性预测", "persistence forecast (naive forecast)"),
    Term("季节性朴素预测", "seasonal naive forecast"),
    Term("平均绝对标度误差", "mean absolute scaled error (MASE)"),
    Term("滚动起点评估", "walk-forward / rolling-origin evaluation"),
    Term("数据泄漏", "data leakage"),
    Term("自回归模型", "autoregressive model (AR)"),
    Term("序列到序列", "sequence to sequence (seq2seq)"),
    Term("编码器", "encoder"),
    Term("解码器", "decoder"),
    Term("注意力", "attention"),
    Term("加性注意力", "additive (Bahdanau) attention"),
    Term("点积注意力", "dot-product (Luong) attention"),
    Term("束搜索", "beam search"),
    Term("贪心解码", "greedy decoding"),
    Term("教师强制", "teacher forcing", "强制教学"),
    Term("曝光偏差", "exposure bias"),
    Term("完全匹配率", "exact match"),
    Term("迁移学习", "transfer learning"),
    Term("预训练", "pre-training"),
    Term("微调", "fine-tuning"),
    Term("逐层递减的学习率", "discriminative learning rates"),
    Term("斜三角学习率", "slanted triangular learning rates"),
    Term("逐层解冻", "gradual unfreezing"),
    Term("标签效率", "label efficiency"),
)
