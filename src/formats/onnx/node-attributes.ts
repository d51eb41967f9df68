import type { AttributeProto, NodeProto } from "onnx-buf";

function find(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute.find((attribute) => attribute.name === name);
}

export function hasAttribute(node: NodeProto, name: string): boolean {
  return find(node, name) !== undefined;
}

export function attributeInt(node: NodeProto, name: string, fallback: number): number {
  const attribute = find(node, name);
  return attribute ? Number(attribute.i) : fallback;
}

export function attributeInts(node: NodeProto, name: string): number[] | undefined {
  const attribute = find(node, name);
  return attribute ? attribute.ints.map(Number) : undefined;
}

export function attributeFloats(node: NodeProto, name: string): number[] | undefined {
  const attribute = find(node, name);
  return attribute ? attribute.floats : undefined;
}

export function attributeString(node: NodeProto, name: string, fallback: string): string {
  const attribute = find(node, name);
  return attribute ? new TextDecoder().decode(attribute.s) : fallback;
}

export function attributeFloat(node: NodeProto, name: string, fallback: number): number {
  const attribute = find(node, name);
  return attribute ? attribute.f : fallback;
}
