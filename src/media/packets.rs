//! Encoded video read back packet for packet: the chunks of a plan, copied
//! unchanged and in decode order into the joined output
//! ([`super::mux::Muxer::create_copying`], [`super::mux::Muxer::write_packet`]).

use std::path::{Path, PathBuf};

use ffmpeg_next as ff;

use super::mux::Muxer;
use super::{describe, Rational};
use crate::error::{Error, Result};

/// The video stream of a chunk file, open for copying.
pub struct VideoPackets {
    path: PathBuf,
    ictx: ff::format::context::Input,
    index: usize,
    time_base: Rational,
    params: ff::codec::Parameters,
}

impl VideoPackets {
    /// Open the chunk file `path` and find its video stream.
    pub fn open(path: &Path) -> Result<VideoPackets> {
        let ictx = ff::format::input(&path).map_err(|e| {
            Error::input(
                path,
                format!("cannot open: {}; make this chunk again", describe(e)),
            )
        })?;
        let (index, time_base, params) = match ictx.streams().best(ff::media::Type::Video) {
            Some(s) => (s.index(), s.time_base(), s.parameters()),
            None => {
                return Err(Error::input(
                    path,
                    "holds no video stream: make this chunk again",
                ))
            }
        };
        Ok(VideoPackets {
            path: path.to_path_buf(),
            ictx,
            index,
            time_base,
            params,
        })
    }

    /// The stream's picture size (width, height), as its codec parameters
    /// state it.
    pub fn size(&self) -> (usize, usize) {
        // SAFETY: the parameters are the codecpar of a stream of the open
        // input `self.ictx`, which they keep alive; width and height are
        // plain ints.
        unsafe {
            let p = self.params.as_ptr();
            ((*p).width as usize, (*p).height as usize)
        }
    }

    /// The stream's codec parameters, for the output stream that takes
    /// these packets.
    pub(super) fn parameters(&self) -> &ff::codec::Parameters {
        &self.params
    }

    /// Write every packet of the stream to `muxer`, in order; returns how
    /// many (one per frame).
    pub fn copy_into(mut self, muxer: &mut Muxer) -> Result<u64> {
        let tb = self.time_base;
        let mut frames = 0u64;
        let mut write = |p: ff::Packet| {
            frames += 1;
            muxer.write_packet(p, tb)
        };
        // The packets before the first one with a dts: an encoder's first
        // packets have negative dts, which NUT does not store.
        let mut head: Vec<ff::Packet> = Vec::new();
        let mut seen_dts = false;
        while let Some(p) = self.next_packet()? {
            if !seen_dts && p.dts().is_none() {
                head.push(p);
                continue;
            }
            if !seen_dts {
                seen_dts = true;
                for h in fill_head_dts(std::mem::take(&mut head), p.dts(), &p) {
                    write(h)?;
                }
            }
            write(p)?;
        }
        let last = head.last().and_then(|p| p.pts());
        for h in fill_head_dts(head, last, &ff::Packet::empty()) {
            write(h)?;
        }
        Ok(frames)
    }

    /// The stream's next packet, `None` at the end of the file.
    fn next_packet(&mut self) -> Result<Option<ff::Packet>> {
        let mut packet = ff::Packet::empty();
        loop {
            match packet.read(&mut self.ictx) {
                Ok(()) if packet.stream() == self.index => return Ok(Some(packet)),
                // Released before the next read, which would not release it.
                Ok(()) => packet = ff::Packet::empty(),
                Err(ff::Error::Eof) => return Ok(None),
                Err(e) => {
                    return Err(Error::input(
                        &self.path,
                        format!("cannot read: {}; make this chunk again", describe(e)),
                    ))
                }
            }
        }
    }
}

/// Give the leading packets without a dts one each, strictly increasing
/// and below `first_dts` (the first packet that has one, `next`), spaced
/// by the step that packet's pts shows against theirs.
fn fill_head_dts(
    mut head: Vec<ff::Packet>,
    first_dts: Option<i64>,
    next: &ff::Packet,
) -> Vec<ff::Packet> {
    let Some(first) = first_dts else {
        return head;
    };
    let mut pts: Vec<i64> = head.iter().filter_map(|p| p.pts()).collect();
    pts.extend(next.pts());
    pts.sort_unstable();
    let step = pts
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|&d| d > 0)
        .min()
        .unwrap_or(1);
    let n = head.len() as i64;
    for (i, p) in head.iter_mut().enumerate() {
        let dts = first - (n - i as i64) * step;
        p.set_dts(Some(p.pts().map_or(dts, |pts| dts.min(pts))));
    }
    head
}
