//! A minimal ONNX (protobuf) writer for tiny graphs of single operators.
//!
//! Used to probe an execution provider with a real session before the first
//! frame, and by tests that need models with chosen inputs and outputs.

/// One graph input or output: name and shape (`None` = dynamic dimension).
pub(crate) struct TensorSpec<'a> {
    pub name: &'a str,
    pub dims: &'a [Option<i64>],
}

/// One node: operator type, input names, output names.
pub(crate) struct NodeSpec<'a> {
    pub op: &'a str,
    pub inputs: &'a [&'a str],
    pub outputs: &'a [&'a str],
}

const FLOAT: u64 = 1;

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn key(out: &mut Vec<u8>, field: u64, wire: u64) {
    varint(out, (field << 3) | wire);
}

fn int_field(out: &mut Vec<u8>, field: u64, v: u64) {
    key(out, field, 0);
    varint(out, v);
}

fn bytes_field(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    key(out, field, 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn value_info(spec: &TensorSpec<'_>) -> Vec<u8> {
    let mut shape = Vec::new();
    for (i, dim) in spec.dims.iter().enumerate() {
        let mut d = Vec::new();
        match dim {
            Some(v) => int_field(&mut d, 1, *v as u64),
            None => bytes_field(&mut d, 2, format!("d{i}").as_bytes()),
        }
        bytes_field(&mut shape, 1, &d);
    }
    let mut tensor = Vec::new();
    int_field(&mut tensor, 1, FLOAT);
    bytes_field(&mut tensor, 2, &shape);
    let mut ty = Vec::new();
    bytes_field(&mut ty, 1, &tensor);
    let mut info = Vec::new();
    bytes_field(&mut info, 1, spec.name.as_bytes());
    bytes_field(&mut info, 2, &ty);
    info
}

/// Serialises a float32 model (IR 8, opset 17) made of `nodes`.
pub(crate) fn model(
    nodes: &[NodeSpec<'_>],
    inputs: &[TensorSpec<'_>],
    outputs: &[TensorSpec<'_>],
) -> Vec<u8> {
    let mut graph = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let mut n = Vec::new();
        for input in node.inputs {
            bytes_field(&mut n, 1, input.as_bytes());
        }
        for output in node.outputs {
            bytes_field(&mut n, 2, output.as_bytes());
        }
        bytes_field(&mut n, 3, format!("n{i}").as_bytes());
        bytes_field(&mut n, 4, node.op.as_bytes());
        bytes_field(&mut graph, 1, &n);
    }
    bytes_field(&mut graph, 2, b"g");
    for input in inputs {
        bytes_field(&mut graph, 11, &value_info(input));
    }
    for output in outputs {
        bytes_field(&mut graph, 12, &value_info(output));
    }
    let mut opset = Vec::new();
    bytes_field(&mut opset, 1, b"");
    int_field(&mut opset, 2, 17);
    let mut m = Vec::new();
    int_field(&mut m, 1, 8);
    bytes_field(&mut m, 2, b"ainimotion");
    bytes_field(&mut m, 7, &graph);
    bytes_field(&mut m, 8, &opset);
    m
}

/// The one-node model that device probing commits: `y = Identity(x)`, x: `[1]`.
pub(crate) fn probe_model() -> Vec<u8> {
    model(
        &[NodeSpec {
            op: "Identity",
            inputs: &["x"],
            outputs: &["y"],
        }],
        &[TensorSpec {
            name: "x",
            dims: &[Some(1)],
        }],
        &[TensorSpec {
            name: "y",
            dims: &[Some(1)],
        }],
    )
}

/// Tiny models for tests of the session layer (not for production use).
pub mod test_models {
    use super::{model, NodeSpec, TensorSpec};

    const DYN4: [Option<i64>; 4] = [None, Some(3), None, None];

    /// `output = Identity(input)`, input `[B,3,H,W]`: a scale-1 "upscaler".
    pub fn identity_upscaler(input: &str, output: &str) -> Vec<u8> {
        model(
            &[NodeSpec {
                op: "Identity",
                inputs: &[input],
                outputs: &[output],
            }],
            &[TensorSpec {
                name: input,
                dims: &DYN4,
            }],
            &[TensorSpec {
                name: output,
                dims: &DYN4,
            }],
        )
    }

    /// An upscaler-shaped model whose input has `channels` channels.
    pub fn identity_with_channels(input: &str, output: &str, channels: i64) -> Vec<u8> {
        identity_with_dims(input, output, &[None, Some(channels), None, None])
    }

    /// `output = Identity(input)` with the given declared shape (`None` =
    /// dynamic), e.g. a fixed batch or a wrong rank.
    pub fn identity_with_dims(input: &str, output: &str, dims: &[Option<i64>]) -> Vec<u8> {
        model(
            &[NodeSpec {
                op: "Identity",
                inputs: &[input],
                outputs: &[output],
            }],
            &[TensorSpec { name: input, dims }],
            &[TensorSpec { name: output, dims }],
        )
    }

    /// An interpolator-shaped model: `output = img0 + timestep * (img1 - img0)`
    /// (a linear blend), inputs img0/img1 `[B,3,H,W]` and timestep `[B,1,1,1]`.
    pub fn blend_interpolator() -> Vec<u8> {
        model(
            &[
                NodeSpec {
                    op: "Sub",
                    inputs: &["img1", "img0"],
                    outputs: &["d"],
                },
                NodeSpec {
                    op: "Mul",
                    inputs: &["d", "timestep"],
                    outputs: &["m"],
                },
                NodeSpec {
                    op: "Add",
                    inputs: &["img0", "m"],
                    outputs: &["output"],
                },
            ],
            &[
                TensorSpec {
                    name: "img0",
                    dims: &DYN4,
                },
                TensorSpec {
                    name: "img1",
                    dims: &DYN4,
                },
                TensorSpec {
                    name: "timestep",
                    dims: &[None, Some(1), Some(1), Some(1)],
                },
            ],
            &[TensorSpec {
                name: "output",
                dims: &DYN4,
            }],
        )
    }
}
