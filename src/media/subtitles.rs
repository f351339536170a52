//! Text subtitles encoded again for a container that cannot carry their
//! codec, as `ffmpeg -c:s mov_text` (or `srt`) does it: FFmpeg's decoder
//! turns each packet into ASS events, the target codec's encoder writes
//! them again, with the decoder's script header (styles) handed over.
//!
//! Timing is not the codecs' business: the muxer gives each converted cue
//! its packet's time on the output timeline, exactly as it places a copied
//! packet (re-based for `--clip`, untouched by `--fps`).

use ffmpeg_next as ff;

/// The largest cue an encoder may write (the ffmpeg CLI's buffer).
const MAX_CUE_BYTES: usize = 1 << 20;

/// One stream's decoder and encoder.
pub struct TextConverter {
    decoder: ff::decoder::Subtitle,
    encoder: ff::encoder::subtitle::Encoder,
    buf: Vec<u8>,
    /// Packets holding cues that could not be decoded or encoded.
    pub failed: u64,
}

/// One converted cue.
pub struct Cue {
    pub data: Vec<u8>,
    /// When it shows, after its packet's time, and for how long (ms).
    pub start_ms: u32,
    pub duration_ms: u32,
}

/// An `AVSubtitle` the decoder filled, freed when dropped.
struct Decoded(ff::Subtitle);

impl Drop for Decoded {
    fn drop(&mut self) {
        // SAFETY: the struct was zeroed by `Subtitle::new` and then only
        // filled by avcodec_decode_subtitle2; avsubtitle_free frees what
        // that allocated and zeroes it again.
        unsafe { ff::ffi::avsubtitle_free(self.0.as_mut_ptr()) };
    }
}

impl TextConverter {
    /// Open the decoder for input stream `ist` and an encoder for `to`;
    /// `global_header` when the container wants codec headers up front.
    /// The error says what failed, for a line naming the stream.
    pub fn open(
        ist: &ff::format::stream::Stream,
        to: ff::codec::Id,
        global_header: bool,
    ) -> Result<TextConverter, String> {
        let params = ist.parameters();
        let ctx = ff::codec::context::Context::from_parameters(params.clone())
            .map_err(|e| format!("cannot set up its decoder: {e}"))?;
        let mut dec = ctx.decoder();
        dec.set_packet_time_base(ist.time_base());
        let decoder = dec
            .subtitle()
            .map_err(|e| format!("cannot open its decoder: {e}"))?;
        let codec =
            ff::encoder::find(to).ok_or_else(|| format!("this FFmpeg has no {to:?} encoder"))?;
        let mut enc = ff::codec::context::Context::new_with_codec(codec)
            .encoder()
            .subtitle()
            .map_err(|e| format!("cannot set up the {to:?} encoder: {e}"))?;
        // SAFETY: both contexts are valid and the encoder is not open yet.
        // The header copy is allocated with av_malloc (NUL-terminated, as
        // FFmpeg's own copy is) and owned by the encoder context from here
        // on, which frees it. Time base, size and flags are plain fields.
        unsafe {
            let d = decoder.as_ptr();
            let e = enc.as_mut_ptr();
            (*e).time_base = ff::ffi::AVRational {
                num: 1,
                den: ff::ffi::AV_TIME_BASE,
            };
            // As the ffmpeg CLI does: the subtitle stream's own size.
            let p = params.as_ptr();
            (*e).width = (*p).width;
            (*e).height = (*p).height;
            if global_header {
                (*e).flags |= ff::ffi::AV_CODEC_FLAG_GLOBAL_HEADER as i32;
            }
            let size = (*d).subtitle_header_size;
            if !(*d).subtitle_header.is_null() && size > 0 {
                let copy = ff::ffi::av_mallocz(size as usize + 1) as *mut u8;
                if copy.is_null() {
                    return Err("out of memory for its script header".into());
                }
                std::ptr::copy_nonoverlapping((*d).subtitle_header, copy, size as usize);
                (*e).subtitle_header = copy;
                (*e).subtitle_header_size = size;
            }
        }
        let encoder = enc
            .open_as(codec)
            .map_err(|e| format!("cannot open the {to:?} encoder: {e}"))?;
        Ok(TextConverter {
            decoder,
            encoder,
            buf: vec![0; MAX_CUE_BYTES],
            failed: 0,
        })
    }

    /// The output stream's parameters (codec, headers).
    pub fn parameters(&self) -> ff::codec::Parameters {
        ff::codec::Parameters::from(&*self.encoder)
    }

    /// The cue of one packet in the target codec; `None` when the packet
    /// holds none (an empty gap sample, as MP4 writes between cues) or
    /// could not be converted (counted in `failed`).
    pub fn convert(&mut self, packet: &ff::Packet) -> Option<Cue> {
        let mut sub = Decoded(ff::Subtitle::new());
        match self.decoder.decode(packet, &mut sub.0) {
            Ok(true) => {}
            Ok(false) => return None,
            Err(_) => {
                self.failed += 1;
                return None;
            }
        }
        if sub.0.rects().len() == 0 {
            return None;
        }
        // The encoder takes a cue that starts at 0 (the ffmpeg CLI moves
        // start_display_time into the pts likewise).
        let (start_ms, end_ms) = (sub.0.start(), sub.0.end());
        sub.0.set_start(0);
        sub.0.set_end(end_ms.saturating_sub(start_ms));
        // SAFETY: the encoder is open, `buf` is writable for its length,
        // and `sub` is a valid decoded subtitle.
        let n = unsafe {
            ff::ffi::avcodec_encode_subtitle(
                self.encoder.as_mut_ptr(),
                self.buf.as_mut_ptr(),
                self.buf.len() as i32,
                sub.0.as_ptr(),
            )
        };
        if n < 0 {
            self.failed += 1;
            return None;
        }
        let data = self.buf.get(..n as usize)?.to_vec();
        if data.is_empty() {
            return None;
        }
        Some(Cue {
            data,
            start_ms,
            duration_ms: end_ms.saturating_sub(start_ms),
        })
    }
}
