import type { ModelProto } from "onnx-buf";
import { EdgeforgeError } from "../../core/errors.js";
import { walkNodes } from "../../formats/onnx/graph-walk.js";

/** Operators of the ai.onnx domain (opsets 1–23, deprecated ones included). */
const onnxOperators = new Set(
  (
    "Abs Acos Acosh Add AffineGrid And ArgMax ArgMin Asin Asinh Atan Atanh Attention AveragePool BatchNormalization Bernoulli " +
    "BitShift BitwiseAnd BitwiseNot BitwiseOr BitwiseXor BlackmanWindow Cast CastLike Ceil Celu CenterCropPad Clip Col2Im " +
    "Compress Concat ConcatFromSequence Constant ConstantOfShape Conv ConvInteger ConvTranspose Cos Cosh CumSum DFT DeformConv " +
    "DepthToSpace DequantizeLinear Det Div Dropout DynamicQuantizeLinear Einsum Elu Equal Erf Exp Expand EyeLike Flatten Floor " +
    "GRU Gather GatherElements GatherND Gelu Gemm GlobalAveragePool GlobalLpPool GlobalMaxPool Greater GreaterOrEqual GridSample " +
    "GroupNormalization HammingWindow HannWindow HardSigmoid HardSwish Hardmax Identity If ImageDecoder InstanceNormalization " +
    "IsInf IsNaN LRN LSTM LayerNormalization LeakyRelu Less LessOrEqual Log LogSoftmax Loop LpNormalization LpPool MatMul " +
    "MatMulInteger Max MaxPool MaxRoiPool MaxUnpool Mean MeanVarianceNormalization MelWeightMatrix Min Mish Mod Mul Multinomial " +
    "Neg NegativeLogLikelihoodLoss NonMaxSuppression NonZero Not OneHot Optional OptionalGetElement OptionalHasElement Or PRelu " +
    "Pad Pow QLinearConv QLinearMatMul QuantizeLinear RMSNormalization RNN RandomNormal RandomNormalLike RandomUniform " +
    "RandomUniformLike Range Reciprocal ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean ReduceMin ReduceProd " +
    "ReduceSum ReduceSumSquare RegexFullMatch Relu Reshape Resize ReverseSequence RoiAlign RotaryEmbedding Round STFT Scan " +
    "Scatter ScatterElements ScatterND Selu SequenceAt SequenceConstruct SequenceEmpty SequenceErase SequenceInsert " +
    "SequenceLength SequenceMap Shape Shrink Sigmoid Sign Sin Sinh Size Slice Softmax SoftmaxCrossEntropyLoss Softplus Softsign " +
    "SpaceToDepth Split SplitToSequence Sqrt Squeeze StringConcat StringNormalizer StringSplit Sub Sum Swish Tan Tanh " +
    "TensorScatter TfIdfVectorizer ThresholdedRelu Tile TopK Transpose Trilu Unique Unsqueeze Upsample Where Xor " +
    "Affine Crop DynamicSlice GRUUnit GivenTensorFill ImageScaler ParametricSoftplus Scale ScaledTanh"
  ).split(" "),
);

const onnxMlOperators = new Set(
  (
    "ArrayFeatureExtractor Binarizer CastMap CategoryMapper DictVectorizer FeatureVectorizer Imputer LabelEncoder " +
    "LinearClassifier LinearRegressor Normalizer OneHotEncoder SVMClassifier SVMRegressor Scaler TreeEnsemble " +
    "TreeEnsembleClassifier TreeEnsembleRegressor ZipMap"
  ).split(" "),
);

/**
 * Refuse a model whose ai.onnx / ai.onnx.ml nodes name an operator ONNX does not define: no
 * runtime could load the output, so it is better said before any work. Other domains (custom ops,
 * com.microsoft) are passed through untouched.
 */
export function checkKnownOperators(model: ModelProto, path: string): void {
  if (!model.graph) return;
  for (const visit of walkNodes(model.graph)) {
    const { domain, opType } = visit.node;
    const known = domain === "" || domain === "ai.onnx" ? onnxOperators.has(opType) : domain === "ai.onnx.ml" ? onnxMlOperators.has(opType) : true;
    if (!known) {
      throw new EdgeforgeError("UNSUPPORTED_OP", `node ${visit.path} of ${path} uses "${opType}", which is not an operator of ${domain || "ai.onnx"}`, {
        hint: "re-export the model with standard ONNX operators, or put a custom operator in its own domain",
        details: { path, node: visit.path, opType, domain: domain || "ai.onnx" },
      });
    }
  }
}
