// The fused LSTM's time loops in C++: the algorithm of _FusedLSTMScan in lstm.py, step for step.
//
// Forward, per step t: one addmm (XW[t] + H_{t-1} @ W_h, blocks i, f, o, c), the activations in
// place, C_t = F * C_{t-1} + I * C~, H_t = O * tanh(C_t).  Backward (BPTT): the local derivatives
// of all steps are computed before the loop; per step the gate gradients and one addmm
// dH_{t-1} = dY[t-1] + dG_t @ W_h^T; the weight gradient is one large product after the loop.
// On a CPU the element-wise work of a backward step is one loop over (batch, hidden); on other
// devices the same arithmetic runs as ATen operators.  Registered as torch.ops.lstm_course.*.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <vector>

using at::Tensor;

namespace {

void check_inputs(const Tensor& XW, const Tensor& W_h, const Tensor& h0, const Tensor& c0) {
  TORCH_CHECK(XW.dim() == 3 && XW.size(0) > 0 && XW.size(2) % 4 == 0,
              "XW: expected (steps>0, batch, 4*hidden), received ", XW.sizes());
  const int64_t B = XW.size(1), Hd = XW.size(2) / 4;
  TORCH_CHECK(W_h.dim() == 2 && W_h.size(0) == Hd && W_h.size(1) == 4 * Hd,
              "W_h: expected (", Hd, ", ", 4 * Hd, "), received ", W_h.sizes());
  TORCH_CHECK(h0.dim() == 2 && h0.size(0) == B && h0.size(1) == Hd,
              "h0: expected (", B, ", ", Hd, "), received ", h0.sizes());
  TORCH_CHECK(c0.sizes() == h0.sizes(), "c0: expected ", h0.sizes(), ", received ", c0.sizes());
  for (const Tensor* t : {&W_h, &h0, &c0}) {
    TORCH_CHECK(t->scalar_type() == XW.scalar_type() && t->device() == XW.device(),
                "all inputs must share XW's dtype and device");
  }
}

// One backward step on a CPU: dC += dH * dC/dH; the four gate gradients; dC *= F.
template <typename scalar_t>
void backward_step_cpu(scalar_t* dc, const scalar_t* dh, const scalar_t* dcdh, const scalar_t* p,
                       const scalar_t* f, scalar_t* d, int64_t B, int64_t Hd) {
  for (int64_t b = 0; b < B; ++b) {
    scalar_t* dcb = dc + b * Hd;
    const scalar_t* dhb = dh + b * Hd;
    const scalar_t* dcdhb = dcdh + b * Hd;
    const scalar_t* pb = p + b * 4 * Hd;
    const scalar_t* fb = f + b * 4 * Hd + Hd;  // the F block of the activated gates
    scalar_t* db = d + b * 4 * Hd;
    for (int64_t j = 0; j < Hd; ++j) {
      const scalar_t c = dcb[j] + dhb[j] * dcdhb[j];
      db[j] = c * pb[j];                    // input gate
      db[Hd + j] = c * pb[Hd + j];          // forget gate
      db[2 * Hd + j] = dhb[j] * pb[2 * Hd + j];  // output gate
      db[3 * Hd + j] = c * pb[3 * Hd + j];  // candidate
      dcb[j] = c * fb[j];                   // dC_{t-1} = dC_t * F_t
    }
  }
}

}  // namespace

// Returns {Y, h_T, c_T, gates, cs, tanh_cs}; the last three are saved for the backward pass.
std::vector<Tensor> fused_lstm_forward(const Tensor& XW_in, const Tensor& W_h, const Tensor& h0,
                                       const Tensor& c0) {
  check_inputs(XW_in, W_h, h0, c0);
  at::NoGradGuard no_grad;
  const Tensor XW = XW_in.contiguous();
  const int64_t T = XW.size(0), B = XW.size(1), Hd = XW.size(2) / 4;
  Tensor gates = at::empty_like(XW);       // activated i, f, o (sigmoid) and c~ (tanh)
  Tensor cs = at::empty({T + 1, B, Hd}, XW.options());   // C_0 .. C_T
  Tensor tanh_cs = at::empty({T, B, Hd}, XW.options());  // tanh(C_1) .. tanh(C_T)
  Tensor Y = at::empty({T, B, Hd}, XW.options());
  cs.select(0, 0).copy_(c0);
  Tensor h = h0;
  for (int64_t t = 0; t < T; ++t) {
    Tensor g = gates.select(0, t);
    at::addmm_out(g, XW.select(0, t), h, W_h);  // the only matrix product inside the loop
    g.narrow(1, 0, 3 * Hd).sigmoid_();
    g.narrow(1, 3 * Hd, Hd).tanh_();
    Tensor c = cs.select(0, t + 1);
    at::mul_out(c, g.narrow(1, Hd, Hd), cs.select(0, t));   // F * C_{t-1}
    c.addcmul_(g.narrow(1, 0, Hd), g.narrow(1, 3 * Hd, Hd));  // + I * C~
    Tensor tc = tanh_cs.select(0, t);
    at::tanh_out(tc, c);
    h = Y.select(0, t);
    at::mul_out(h, g.narrow(1, 2 * Hd, Hd), tc);           // H = O * tanh(C)
  }
  return {Y, Y.select(0, T - 1).clone(), cs.select(0, T).clone(), gates, cs, tanh_cs};
}

// Returns {dXW, dW_h, dh0, dc0}.
std::vector<Tensor> fused_lstm_backward(const Tensor& dY_in, const Tensor& dh_T, const Tensor& dc_T,
                                        const Tensor& W_h, const Tensor& h0, const Tensor& gates,
                                        const Tensor& cs, const Tensor& tanh_cs, const Tensor& Y) {
  at::NoGradGuard no_grad;
  const Tensor dY = dY_in.contiguous();
  const int64_t T = gates.size(0), B = gates.size(1), G = gates.size(2), Hd = G / 4;
  const Tensor i = gates.narrow(2, 0, Hd), f = gates.narrow(2, Hd, Hd);
  const Tensor o = gates.narrow(2, 2 * Hd, Hd), g = gates.narrow(2, 3 * Hd, Hd);
  // Local derivatives of the pre-activations, all steps at once (outside the loop):
  // d pre_i = dC * C~ * i(1-i); d pre_f = dC * C_{t-1} * f(1-f);
  // d pre_o = dH * tanh(C) * o(1-o); d pre_c = dC * I * (1 - C~^2).
  Tensor P = at::empty_like(gates);
  Tensor P_i = P.narrow(2, 0, Hd), P_f = P.narrow(2, Hd, Hd);
  Tensor P_o = P.narrow(2, 2 * Hd, Hd), P_c = P.narrow(2, 3 * Hd, Hd);
  at::mul_out(P_i, i * (1 - i), g);
  at::mul_out(P_f, f * (1 - f), cs.narrow(0, 0, T));
  at::mul_out(P_o, o * (1 - o), tanh_cs);
  at::mul_out(P_c, 1 - g * g, i);
  const Tensor dC_dH = (o * (1 - tanh_cs * tanh_cs)).contiguous();  // dC_t += dH_t * O_t * (1 - tanh^2 C_t)
  Tensor dG = at::empty_like(gates);
  Tensor dh = (dY.select(0, T - 1) + dh_T).contiguous();
  Tensor dc = dc_T.clone().contiguous();
  const Tensor W_hT = W_h.t();
  const bool cpu = gates.device().is_cpu();
  for (int64_t t = T - 1; t >= 0; --t) {
    Tensor d = dG.select(0, t);
    const Tensor p = P.select(0, t);
    if (cpu) {
      AT_DISPATCH_FLOATING_TYPES(gates.scalar_type(), "fused_lstm_backward_step", [&] {
        backward_step_cpu<scalar_t>(dc.data_ptr<scalar_t>(), dh.data_ptr<scalar_t>(),
                                    dC_dH.select(0, t).data_ptr<scalar_t>(), p.data_ptr<scalar_t>(),
                                    gates.select(0, t).data_ptr<scalar_t>(), d.data_ptr<scalar_t>(),
                                    B, Hd);
      });
    } else {
      dc.addcmul_(dh, dC_dH.select(0, t));
      Tensor d_if = d.narrow(1, 0, 2 * Hd).view({B, 2, Hd});
      Tensor d_o = d.narrow(1, 2 * Hd, Hd), d_c = d.narrow(1, 3 * Hd, Hd);
      at::mul_out(d_if, dc.unsqueeze(1), p.narrow(1, 0, 2 * Hd).view({B, 2, Hd}));
      at::mul_out(d_o, dh, p.narrow(1, 2 * Hd, Hd));
      at::mul_out(d_c, dc, p.narrow(1, 3 * Hd, Hd));
      dc.mul_(f.select(0, t));
    }
    dh = t > 0 ? at::addmm(dY.select(0, t - 1), d, W_hT) : at::mm(d, W_hT);
  }
  const Tensor H_prev = at::cat({h0.unsqueeze(0), Y.narrow(0, 0, T - 1)}, 0);
  const Tensor dW_h = H_prev.reshape({-1, Hd}).t().mm(dG.reshape({-1, G}));
  return {dG, dW_h, dh, dc};
}

TORCH_LIBRARY(lstm_course, m) {
  m.def("fused_lstm_forward(Tensor XW, Tensor W_h, Tensor h0, Tensor c0) -> Tensor[]",
        &fused_lstm_forward);
  m.def("fused_lstm_backward(Tensor dY, Tensor dh_T, Tensor dc_T, Tensor W_h, Tensor h0, "
        "Tensor gates, Tensor cs, Tensor tanh_cs, Tensor Y) -> Tensor[]",
        &fused_lstm_backward);
}
