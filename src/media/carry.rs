//! What becomes of each input stream beside the enhanced video: copied
//! packet for packet, converted to a form the output's container carries,
//! or dropped with the reason in one warning line. Every input stream gets
//! a [`StreamOutcome`] in the report.
//!
//! Between containers of one kind everything is copied. Moving between
//! them (`.mp4` ↔ `.mkv`, the most common change of an output name) keeps:
//! - cover art (a picture stream marked `attached_pic`) in the form each
//!   container's players read: an `attached_pic` stream in MP4/MOV (the
//!   muxer's `covr` atom), a `cover.<ext>` attachment with the image's MIME
//!   type in Matroska, which FFmpeg's demuxer reads back as an attached
//!   picture. The image bytes are never re-encoded.
//! - text subtitles (SubRip, ASS/SSA, mov_text, WebVTT, any codec FFmpeg
//!   marks as text) that the container cannot carry as they are, decoded
//!   and encoded again as a text codec it can ([`text_target`]), with their
//!   cues, timing, language, title and disposition. ASS styling does not
//!   survive `mov_text`, and a warning says so.
//!
//! Bitmap subtitles (PGS, DVB; MP4 does carry DVD's), fonts and audio that
//! a container cannot carry are dropped, each with one warning line naming
//! `.mkv`, which carries them all.
//!
//! The decisions ([`Decider`]) are plain code; `add_other_streams` then
//! sets up the output's streams, and the muxer writes their packets in step
//! with the video, converting subtitles on the way ([`super::subtitles`]).

use ff::format::stream::Disposition;
use ffmpeg_next as ff;
use serde::Serialize;

use super::mux::OutputPlan;
use super::stream::StreamFacts;
use super::subtitles::TextConverter;
use super::{describe, seconds_ts, Rational};
use crate::error::{Error, Result};

/// What the muxer does with one input stream.
#[derive(Clone, Debug, PartialEq)]
pub enum Carry {
    /// Packets copied as they are.
    Copy,
    /// Text subtitles decoded and encoded again as this codec.
    Subtitle(ff::codec::Id),
    /// Cover art, written once in this form.
    Cover(CoverForm),
    /// Not written; the reason, for the warning and the report.
    Drop(String),
}

/// The form cover art takes in the output.
#[derive(Clone, Debug, PartialEq)]
pub enum CoverForm {
    /// A one-picture stream marked `attached_pic` (MP4, MOV).
    AttachedPic,
    /// A Matroska attachment.
    Attachment { filename: String, mimetype: String },
}

/// What happened to one input stream, as the report lists it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StreamOutcome {
    pub index: usize,
    /// The media type as `ffprobe` names it.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub codec: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// `outcome` of a [`StreamOutcome`], with its details.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The enhanced video, by this encoder.
    Encoded {
        to: String,
    },
    Copied,
    Converted {
        from: String,
        to: String,
        /// Packets holding cues that could not be converted (missing from
        /// the output).
        #[serde(skip_serializing_if = "is_zero")]
        failed: u64,
    },
    Dropped {
        why: String,
    },
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl StreamOutcome {
    pub fn new(s: &StreamFacts, outcome: Outcome) -> StreamOutcome {
        StreamOutcome {
            index: s.index,
            kind: s.kind(),
            codec: s.codec_id_name(),
            language: s.language.clone(),
            outcome,
        }
    }
}

/// The containers a stream the output cannot carry would be kept in.
fn keep_hint(fmt: &str) -> &'static str {
    if fmt == "matroska" {
        ""
    } else {
        " (use .mkv to keep it)"
    }
}

/// `subtitle stream #2 (ass, jpn)`: how warnings name a stream.
pub fn label(s: &StreamFacts) -> String {
    let kind = if is_cover(s) { "cover art" } else { s.kind() };
    format!(
        "{kind} stream #{} ({}{})",
        s.index,
        s.codec_id_name(),
        s.language
            .as_ref()
            .map(|l| format!(", {l}"))
            .unwrap_or_default()
    )
}

pub fn is_cover(s: &StreamFacts) -> bool {
    s.medium == ff::media::Type::Video && s.disposition.contains(Disposition::ATTACHED_PIC)
}

/// A subtitle codec FFmpeg marks as text (not bitmap).
pub fn is_text_subtitle(id: ff::codec::Id) -> bool {
    // SAFETY: avcodec_descriptor_get returns null or a pointer into
    // FFmpeg's static descriptor table; props is a plain int.
    let props = unsafe {
        let d = ff::ffi::avcodec_descriptor_get(id.into());
        if d.is_null() {
            return false;
        }
        (*d).props
    };
    props & ff::ffi::AV_CODEC_PROP_TEXT_SUB != 0 && props & ff::ffi::AV_CODEC_PROP_BITMAP_SUB == 0
}

/// The text codec text subtitles become in a container that cannot carry
/// theirs: Matroska keeps ASS as ASS and takes the rest as SubRip; MP4 and
/// MOV carry only `mov_text`, WebM only WebVTT.
pub fn text_target(fmt: &str, from: ff::codec::Id) -> Option<ff::codec::Id> {
    use ff::codec::Id;
    match fmt {
        "matroska" if matches!(from, Id::ASS | Id::SSA) => Some(Id::ASS),
        "matroska" => Some(Id::SUBRIP),
        "mp4" | "mov" => Some(Id::MOV_TEXT),
        "webm" => Some(Id::WEBVTT),
        _ => None,
    }
}

/// File extension and MIME type of a picture codec, for a Matroska
/// attachment. FFmpeg's demuxer reads back GIF, JPEG, PNG and TIFF as
/// attached pictures, the others as plain attachments.
fn image_type(id: ff::codec::Id) -> Option<(&'static str, &'static str)> {
    use ff::codec::Id;
    Some(match id {
        Id::PNG => ("png", "image/png"),
        Id::MJPEG => ("jpg", "image/jpeg"),
        Id::GIF => ("gif", "image/gif"),
        Id::TIFF => ("tif", "image/tiff"),
        Id::BMP => ("bmp", "image/bmp"),
        Id::WEBP => ("webp", "image/webp"),
        _ => return None,
    })
}

/// Decides each stream's [`Carry`] for one output container, keeping the
/// attachment file names in use so that each cover gets one of its own.
pub struct Decider<'a> {
    pub fmt: &'a str,
    /// Whether the output container can hold a stream of this codec.
    pub holds: &'a dyn Fn(ff::codec::Id) -> bool,
    /// Attachment file names taken so far.
    pub names: Vec<String>,
}

impl Decider<'_> {
    /// What to do with stream `s` (not the enhanced video).
    pub fn decide(&mut self, s: &StreamFacts) -> Carry {
        use ff::media::Type;
        let fmt = self.fmt;
        let cannot = || Carry::Drop(format!("a {fmt} file cannot carry it{}", keep_hint(fmt)));
        match s.medium {
            Type::Video if is_cover(s) => self.cover(s),
            Type::Video => Carry::Drop(
                "a second video stream is not copied (only the enhanced one is written)".into(),
            ),
            Type::Audio if (self.holds)(s.codec_id) => Carry::Copy,
            Type::Audio => cannot(),
            Type::Subtitle if (self.holds)(s.codec_id) => Carry::Copy,
            Type::Subtitle => match text_target(fmt, s.codec_id) {
                Some(to)
                    if is_text_subtitle(s.codec_id)
                        && (self.holds)(to)
                        && ff::decoder::find(s.codec_id).is_some()
                        && ff::encoder::find(to).is_some() =>
                {
                    Carry::Subtitle(to)
                }
                _ => cannot(),
            },
            // Matroska carries attachments (fonts) as streams although its
            // codec query knows nothing of them; other containers cannot.
            Type::Attachment if fmt == "matroska" => Carry::Copy,
            Type::Attachment => cannot(),
            _ => Carry::Drop(
                "only audio, subtitle, attachment and cover art streams are copied".into(),
            ),
        }
    }

    fn cover(&mut self, s: &StreamFacts) -> Carry {
        use ff::codec::Id;
        let fmt = self.fmt;
        match fmt {
            "mp4" | "mov" if matches!(s.codec_id, Id::PNG | Id::MJPEG | Id::BMP) => {
                Carry::Cover(CoverForm::AttachedPic)
            }
            "mp4" | "mov" => Carry::Drop(format!(
                "a {fmt} file carries PNG, JPEG or BMP cover art only (use .mkv to keep it)"
            )),
            "matroska" => {
                let from_tags = s
                    .mimetype
                    .clone()
                    .filter(|m| m.starts_with("image/"))
                    .map(|m| (s.filename.clone(), m));
                let (filename, mimetype) = match (from_tags, image_type(s.codec_id)) {
                    (Some((Some(name), mime)), _) => (name, mime),
                    (_, Some((ext, mime))) => (format!("cover.{ext}"), mime.to_string()),
                    (Some((None, mime)), None) => ("cover".to_string(), mime),
                    (None, None) => {
                        return Carry::Drop(format!(
                            "no image type is known for {} cover art",
                            s.codec_id_name()
                        ))
                    }
                };
                let filename = self.unique(filename);
                Carry::Cover(CoverForm::Attachment { filename, mimetype })
            }
            _ => Carry::Drop(format!(
                "a {fmt} file cannot carry cover art{}",
                keep_hint(fmt)
            )),
        }
    }

    /// `name`, or `stem-2.ext`, `stem-3.ext`… when an attachment has it.
    fn unique(&mut self, name: String) -> String {
        let (stem, ext) = match name.rsplit_once('.') {
            Some((s, e)) if !s.is_empty() => (s.to_string(), format!(".{e}")),
            _ => (name.clone(), String::new()),
        };
        let mut candidate = name;
        let mut n = 2;
        while self
            .names
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&candidate))
        {
            candidate = format!("{stem}-{n}{ext}");
            n += 1;
        }
        self.names.push(candidate.clone());
        candidate
    }
}

/// The warning a plan gives, if any: a drop, or styling lost on the way.
pub fn warning(s: &StreamFacts, carry: &Carry) -> Option<String> {
    use ff::codec::Id;
    match carry {
        Carry::Drop(why) => Some(format!("dropped {}: {why}", label(s))),
        Carry::Subtitle(to) if matches!(s.codec_id, Id::ASS | Id::SSA) && *to != Id::ASS => {
            Some(format!(
                "converted {} to {}: its ASS styling (fonts, colours, positions) is lost (use .mkv to keep it)",
                label(s),
                codec_name(*to)
            ))
        }
        _ => None,
    }
}

/// A kept stream's tags in the output container. MP4 and MOV have no
/// track title: FFmpeg's muxer drops `title` there, and players show the
/// handler name (`hdlr`) instead, so a title becomes that.
pub fn tags_for(md: &ff::DictionaryRef, fmt: &str) -> ff::Dictionary<'static> {
    let mut md = md.to_owned();
    if matches!(fmt, "mp4" | "mov") {
        if let Some(title) = md.get("title").map(str::to_string) {
            md.set("handler_name", &title);
        }
    }
    md
}

/// A codec id as FFmpeg spells the format ("mov_text", "subrip").
pub fn codec_name(id: ff::codec::Id) -> String {
    format!("{id:?}").to_lowercase()
}

/// The report's line for stream `s` under `carry` (`failed`: cues that
/// could not be converted).
pub fn outcome(s: &StreamFacts, carry: &Carry, failed: u64) -> StreamOutcome {
    let outcome = match carry {
        Carry::Copy => Outcome::Copied,
        Carry::Drop(why) => Outcome::Dropped { why: why.clone() },
        Carry::Subtitle(to) => Outcome::Converted {
            from: s.codec_id_name(),
            to: codec_name(*to),
            failed,
        },
        Carry::Cover(form) => {
            // Matroska's demuxer names the attachment a cover came from.
            let from = match &s.filename {
                Some(name) => format!("attachment {name}"),
                None => "attached picture".to_string(),
            };
            let to = match form {
                CoverForm::AttachedPic => "attached picture".to_string(),
                CoverForm::Attachment { filename, mimetype } => {
                    format!("attachment {filename} ({mimetype})")
                }
            };
            let same = match form {
                CoverForm::AttachedPic => s.filename.is_none(),
                CoverForm::Attachment { filename, .. } => s.filename.as_ref() == Some(filename),
            };
            if same {
                Outcome::Copied
            } else {
                Outcome::Converted {
                    from,
                    to,
                    failed: 0,
                }
            }
        }
    };
    StreamOutcome::new(s, outcome)
}

// ------------------------------------------------ the output's streams

/// A kept stream whose packets the muxer writes as it reads them.
pub(super) struct CopiedStream {
    pub(super) out_index: usize,
    pub(super) in_tb: Rational,
    pub(super) out_tb: Rational,
    pub(super) origin_ts: i64,
    pub(super) end_ts: Option<i64>,
    pub(super) is_subtitle: bool,
    /// Text subtitles encoded again for this container.
    pub(super) convert: Option<TextConverter>,
}

/// The output's streams for every input stream but the video.
#[derive(Default)]
pub(super) struct Carried {
    /// Indexed by input stream.
    pub copy_map: Vec<Option<CopiedStream>>,
    /// Cover pictures to write once the header is written.
    pub covers: Vec<ff::Packet>,
    pub outcomes: Vec<StreamOutcome>,
    pub warnings: Vec<String>,
}

/// Decide what becomes of every input stream but the video, and add the
/// output streams for those kept.
pub(super) fn add_other_streams(
    octx: &mut ff::format::context::Output,
    copier: &ff::format::context::Input,
    plan: &OutputPlan,
    fmt_name: &str,
) -> Result<Carried> {
    let carried = carry_streams(copier, octx, plan, fmt_name);
    let outcomes = carried.iter().map(|(s, c, _)| outcome(s, c, 0)).collect();
    let warnings = carried
        .iter()
        .filter_map(|(s, c, _)| warning(s, c))
        .collect();
    let (copy_map, covers) = add_carried_streams(octx, copier, plan, fmt_name, carried)?;
    Ok(Carried {
        copy_map,
        covers,
        outcomes,
        warnings,
    })
}

/// One input stream, what the output does with it, and its converter
/// when its subtitles are converted.
type StreamPlan = (StreamFacts, Carry, Option<TextConverter>);

/// Every input stream but the video, with what the output does with it.
/// A stream that cannot be carried as decided (a cover without a picture,
/// subtitles whose converter does not open) is dropped with the reason.
fn carry_streams(
    copier: &ff::format::context::Input,
    octx: &ff::format::context::Output,
    plan: &OutputPlan,
    fmt_name: &str,
) -> Vec<StreamPlan> {
    let global_header = octx
        .format()
        .flags()
        .contains(ff::format::Flags::GLOBAL_HEADER);
    let facts: Vec<StreamFacts> = copier
        .streams()
        .map(|ist| StreamFacts::read(&ist))
        .filter(|s| s.index != plan.video_stream_index)
        .collect();
    let holds = |id| super::mux::container_holds(octx, id);
    let mut decider = Decider {
        fmt: fmt_name,
        holds: &holds,
        // Fonts keep their names; a cover takes one none of them has.
        names: facts
            .iter()
            .filter(|s| s.medium == ff::media::Type::Attachment)
            .filter_map(|s| s.filename.clone())
            .collect(),
    };
    facts
        .into_iter()
        .map(|s| {
            let c = decider.decide(&s);
            let Some(ist) = copier.stream(s.index) else {
                return (s, Carry::Drop("the input lost it".into()), None);
            };
            match c {
                Carry::Cover(_) if cover_picture(&ist).is_empty() => {
                    (s, Carry::Drop("it holds no picture".into()), None)
                }
                Carry::Subtitle(to) => match TextConverter::open(&ist, to, global_header) {
                    Ok(conv) => (s, c, Some(conv)),
                    Err(why) => {
                        let why = format!(
                            "cannot convert it to {}: {why}{}",
                            codec_name(to),
                            keep_hint(fmt_name)
                        );
                        (s, Carry::Drop(why), None)
                    }
                },
                c => (s, c, None),
            }
        })
        .collect()
}

/// The picture of a cover art stream (empty when it holds none).
fn cover_picture(ist: &ff::format::stream::Stream) -> Vec<u8> {
    // SAFETY: attached_pic is the packet the demuxer keeps in the stream
    // for the stream's life; its data is valid for `size` bytes (or null
    // when the stream holds no picture).
    unsafe {
        let pic = &(*ist.as_ptr()).attached_pic;
        if pic.data.is_null() || pic.size <= 0 {
            Vec::new()
        } else {
            std::slice::from_raw_parts(pic.data, pic.size as usize).to_vec()
        }
    }
}

/// Add an output stream for each kept input stream. Returns the copy map
/// (indexed by input stream) and the cover pictures to write once the
/// header is written.
fn add_carried_streams(
    octx: &mut ff::format::context::Output,
    copier: &ff::format::context::Input,
    plan: &OutputPlan,
    fmt_name: &str,
    carried: Vec<StreamPlan>,
) -> Result<(Vec<Option<CopiedStream>>, Vec<ff::Packet>)> {
    let mut copy_map: Vec<Option<CopiedStream>> = Vec::new();
    let mut covers = Vec::new();
    for (s, how, convert) in carried {
        let Some(ist) = copier.stream(s.index) else {
            continue;
        };
        let params = match (&how, &convert) {
            (Carry::Cover(form), _) => {
                covers.extend(add_cover(octx, &ist, &s, form, plan)?);
                continue;
            }
            (Carry::Copy, _) => ist.parameters(),
            (Carry::Subtitle(_), Some(conv)) => conv.parameters(),
            (Carry::Drop(_) | Carry::Subtitle(_), _) => continue,
        };
        let mut ost = new_stream(octx, plan, s.index)?;
        ost.set_parameters(params);
        // SAFETY: the output stream's codecpar is valid; codec_tag 0 lets
        // the muxer choose its own tag; disposition is copied verbatim.
        unsafe {
            (*ost.parameters().as_mut_ptr()).codec_tag = 0;
            (*ost.as_mut_ptr()).disposition = (*ist.as_ptr()).disposition;
        }
        ost.set_time_base(ist.time_base());
        ost.set_metadata(tags_for(&ist.metadata(), fmt_name));
        if copy_map.len() <= s.index {
            copy_map.resize_with(s.index + 1, || None);
        }
        let in_tb = ist.time_base();
        copy_map[s.index] = Some(CopiedStream {
            out_index: ost.index(),
            in_tb,
            out_tb: in_tb,
            origin_ts: seconds_ts(plan.origin_s, in_tb),
            end_ts: plan.end_s.map(|e| seconds_ts(e, in_tb)),
            is_subtitle: s.medium == ff::media::Type::Subtitle,
            convert,
        });
    }
    Ok((copy_map, covers))
}

fn new_stream<'a>(
    octx: &'a mut ff::format::context::Output,
    plan: &OutputPlan,
    index: usize,
) -> Result<ff::format::stream::StreamMut<'a>> {
    octx.add_stream(ff::encoder::find(ff::codec::Id::None))
        .map_err(|e| {
            Error::output(
                plan.target,
                format!("cannot add stream #{index}: {}", describe(e)),
            )
        })
}

/// Add cover art `s` (holding a picture) in `form`; returns the picture's
/// packet when it is written as one (an `attached_pic` stream), none for
/// an attachment.
fn add_cover(
    octx: &mut ff::format::context::Output,
    ist: &ff::format::stream::Stream,
    s: &StreamFacts,
    form: &CoverForm,
    plan: &OutputPlan,
) -> Result<Option<ff::Packet>> {
    let picture = cover_picture(ist);
    let mut ost = new_stream(octx, plan, s.index)?;
    let index = ost.index();
    match form {
        CoverForm::AttachedPic => {
            ost.set_parameters(ist.parameters());
            // SAFETY: codecpar and disposition of a stream being set up.
            unsafe {
                (*ost.parameters().as_mut_ptr()).codec_tag = 0;
                (*ost.as_mut_ptr()).disposition = ff::ffi::AV_DISPOSITION_ATTACHED_PIC;
            }
            ost.set_time_base(Rational::new(1, 90000));
            let mut md = ff::Dictionary::new();
            if let Some(t) = &s.title {
                md.set("title", t);
            }
            ost.set_metadata(md);
            let mut packet = ff::Packet::copy(&picture);
            packet.set_stream(index);
            packet.set_pts(Some(0));
            packet.set_dts(Some(0));
            packet.set_flags(ff::packet::Flags::KEY);
            Ok(Some(packet))
        }
        CoverForm::Attachment { filename, mimetype } => {
            // SAFETY: the codecpar of a stream being set up; the picture's
            // copy is allocated with av_malloc, padded with zeros as FFmpeg
            // requires of extradata, and owned by the codecpar from here on,
            // which frees it.
            unsafe {
                let par = ost.parameters().as_mut_ptr();
                (*par).codec_type = ff::ffi::AVMediaType::AVMEDIA_TYPE_ATTACHMENT;
                (*par).codec_id = ff::ffi::AVCodecID::AV_CODEC_ID_NONE;
                let pad = ff::ffi::AV_INPUT_BUFFER_PADDING_SIZE as usize;
                let buf = ff::ffi::av_mallocz(picture.len() + pad) as *mut u8;
                if buf.is_null() {
                    return Err(Error::output(
                        plan.target,
                        "out of memory for the cover art".to_string(),
                    ));
                }
                std::ptr::copy_nonoverlapping(picture.as_ptr(), buf, picture.len());
                (*par).extradata = buf;
                (*par).extradata_size = picture.len() as i32;
                (*ost.as_mut_ptr()).disposition = 0;
            }
            let mut md = ff::Dictionary::new();
            md.set("filename", filename);
            md.set("mimetype", mimetype);
            if let Some(t) = &s.title {
                md.set("title", t);
            }
            ost.set_metadata(md);
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ff::codec::Id;
    use ff::media::Type;

    fn facts(index: usize, medium: Type, codec_id: Id) -> StreamFacts {
        StreamFacts {
            index,
            medium,
            codec_id,
            codec: codec_name(codec_id),
            time_base: ff::Rational::new(1, 1000),
            avg_frame_rate: ff::Rational::new(0, 0),
            base_rate: ff::Rational::new(0, 0),
            frames: 0,
            duration: 0,
            language: Some("jpn".into()),
            title: None,
            filename: None,
            mimetype: None,
            disposition: Disposition::empty(),
            channels: None,
            sample_rate: None,
        }
    }

    fn cover(index: usize, codec_id: Id) -> StreamFacts {
        let mut s = facts(index, Type::Video, codec_id);
        s.disposition = Disposition::ATTACHED_PIC;
        s.language = None;
        s
    }

    /// What each container's codec query says, for the codecs used here.
    fn holds(fmt: &str) -> impl Fn(Id) -> bool + '_ {
        move |id| match fmt {
            "matroska" => !matches!(id, Id::MOV_TEXT),
            "mp4" | "mov" => matches!(id, Id::AAC | Id::MOV_TEXT | Id::DVD_SUBTITLE),
            "webm" => matches!(id, Id::OPUS | Id::WEBVTT),
            _ => false,
        }
    }

    fn decide(fmt: &str, s: &StreamFacts) -> Carry {
        let h = holds(fmt);
        Decider {
            fmt,
            holds: &h,
            names: vec!["cover.png".into()],
        }
        .decide(s)
    }

    #[test]
    fn text_subtitles_become_what_each_container_carries() {
        ff::init().unwrap();
        let mov_text = facts(1, Type::Subtitle, Id::MOV_TEXT);
        let ass = facts(2, Type::Subtitle, Id::ASS);
        let srt = facts(3, Type::Subtitle, Id::SUBRIP);
        assert_eq!(decide("matroska", &mov_text), Carry::Subtitle(Id::SUBRIP));
        assert_eq!(decide("matroska", &ass), Carry::Copy);
        assert_eq!(decide("mp4", &ass), Carry::Subtitle(Id::MOV_TEXT));
        assert_eq!(decide("mov", &srt), Carry::Subtitle(Id::MOV_TEXT));
        assert_eq!(decide("mp4", &mov_text), Carry::Copy);
        assert_eq!(decide("webm", &srt), Carry::Subtitle(Id::WEBVTT));
        // Styling lost: one warning; a plain conversion says nothing.
        let w = warning(&ass, &decide("mp4", &ass)).unwrap();
        assert!(w.contains("subtitle stream #2 (ass, jpn)") && w.contains("styling"));
        assert_eq!(warning(&mov_text, &decide("matroska", &mov_text)), None);
        let o = outcome(&ass, &Carry::Subtitle(Id::MOV_TEXT), 0);
        assert_eq!(
            serde_json::to_value(&o).unwrap(),
            serde_json::json!({"index": 2, "type": "subtitle", "codec": "ass",
                "language": "jpn", "outcome": "converted", "from": "ass", "to": "mov_text"})
        );
    }

    #[test]
    fn bitmap_subtitles_and_fonts_are_dropped_naming_mkv() {
        let pgs = facts(1, Type::Subtitle, Id::HDMV_PGS_SUBTITLE);
        let dvd = facts(2, Type::Subtitle, Id::DVD_SUBTITLE);
        let font = facts(3, Type::Attachment, Id::TTF);
        let Carry::Drop(why) = decide("mp4", &pgs) else {
            panic!("PGS into mp4 is kept");
        };
        assert_eq!(why, "a mp4 file cannot carry it (use .mkv to keep it)");
        assert_eq!(decide("mp4", &dvd), Carry::Copy);
        assert_eq!(decide("matroska", &pgs), Carry::Copy);
        assert!(matches!(decide("mp4", &font), Carry::Drop(w) if w.contains(".mkv")));
        assert_eq!(decide("matroska", &font), Carry::Copy);
        let o = serde_json::to_value(outcome(&pgs, &decide("mp4", &pgs), 0)).unwrap();
        assert_eq!(o["outcome"], "dropped");
        assert!(o["why"].as_str().unwrap().contains(".mkv"));
    }

    #[test]
    fn cover_art_takes_each_containers_form() {
        let png = cover(2, Id::PNG);
        assert_eq!(decide("mp4", &png), Carry::Cover(CoverForm::AttachedPic));
        assert_eq!(
            outcome(&png, &decide("mp4", &png), 0).outcome,
            Outcome::Copied
        );
        // "cover.png" is taken (a font of that name): the next name.
        let into_mkv = decide("matroska", &png);
        assert_eq!(
            into_mkv,
            Carry::Cover(CoverForm::Attachment {
                filename: "cover-2.png".into(),
                mimetype: "image/png".into()
            })
        );
        assert!(matches!(
            outcome(&png, &into_mkv, 0).outcome,
            Outcome::Converted { ref from, .. } if from == "attached picture"
        ));
        let jpeg = cover(3, Id::MJPEG);
        assert_eq!(
            decide("matroska", &jpeg),
            Carry::Cover(CoverForm::Attachment {
                filename: "cover.jpg".into(),
                mimetype: "image/jpeg".into()
            })
        );
        // A Matroska cover keeps its own name and type back into Matroska.
        let mut named = cover(4, Id::MJPEG);
        named.filename = Some("small_cover.jpg".into());
        named.mimetype = Some("image/jpeg".into());
        let back = decide("matroska", &named);
        assert_eq!(outcome(&named, &back, 0).outcome, Outcome::Copied);
        assert!(matches!(
            outcome(&named, &decide("mp4", &named), 0).outcome,
            Outcome::Converted { ref to, .. } if to == "attached picture"
        ));
        // What a container cannot carry: one reason naming .mkv.
        assert!(matches!(decide("webm", &png), Carry::Drop(w) if w.contains(".mkv")));
        assert!(matches!(decide("mp4", &cover(5, Id::GIF)), Carry::Drop(w) if w.contains("PNG")));
        let w = warning(&png, &decide("webm", &png)).unwrap();
        assert!(w.starts_with("dropped cover art stream #2 (png)"), "{w}");
    }

    #[test]
    fn a_title_becomes_the_mp4_handler_name() {
        let mut md = ff::Dictionary::new();
        md.set("title", "Signs");
        md.set("language", "jpn");
        let mp4 = tags_for(&md, "mp4");
        assert_eq!(mp4.get("handler_name"), Some("Signs"));
        assert_eq!(mp4.get("language"), Some("jpn"));
        assert_eq!(tags_for(&md, "matroska").get("handler_name"), None);
    }

    #[test]
    fn other_video_and_data_streams_are_dropped() {
        let v = facts(1, Type::Video, Id::H264);
        assert!(matches!(decide("matroska", &v), Carry::Drop(_)));
        let d = facts(2, Type::Data, Id::BIN_DATA);
        assert!(matches!(decide("matroska", &d), Carry::Drop(_)));
    }
}
