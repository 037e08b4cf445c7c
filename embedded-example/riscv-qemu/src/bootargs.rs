//! Settings handed over at boot on the kernel command line: QEMU's
//! `-append "url=http://10.0.2.2:PORT name=dev1 period_ms=1000"` puts the
//! text in the device tree (`/chosen/bootargs`), whose address QEMU passes
//! in `a1` at reset. (QEMU 7.2's `-fw_cfg` option cannot be used on the
//! RISC-V virt board: its fw_cfg device appears after the option is read.)

/// FDT structure-block tokens.
const BEGIN_NODE: u32 = 1;
const END_NODE: u32 = 2;
const PROP: u32 = 3;
const NOP: u32 = 4;
const FDT_MAGIC: u32 = 0xd00d_feed;

fn be32(blob: &[u8], at: usize) -> Option<u32> {
    let bytes = blob.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

fn cstr(blob: &[u8], at: usize) -> Option<&[u8]> {
    let rest = blob.get(at..)?;
    let len = rest.iter().position(|&b| b == 0)?;
    rest.get(..len)
}

const fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// `/chosen/bootargs` of the flattened device tree `blob`, if any.
pub fn bootargs(blob: &[u8]) -> Option<&str> {
    if be32(blob, 0)? != FDT_MAGIC {
        return None;
    }
    let structs = be32(blob, 8)? as usize;
    let strings = be32(blob, 12)? as usize;
    let mut at = structs;
    let mut depth = 0usize;
    let mut in_chosen = false;
    loop {
        let token = be32(blob, at)?;
        at += 4;
        match token {
            BEGIN_NODE => {
                let name = cstr(blob, at)?;
                at = align4(at + name.len() + 1);
                depth += 1;
                in_chosen = depth == 2 && name == b"chosen";
            }
            END_NODE => {
                depth = depth.checked_sub(1)?;
                in_chosen = false;
            }
            PROP => {
                let len = be32(blob, at)? as usize;
                let name_at = be32(blob, at + 4)? as usize;
                let value = blob.get(at + 8..at + 8 + len)?;
                at = align4(at + 8 + len);
                if in_chosen && cstr(blob, strings + name_at)? == b"bootargs" {
                    let text = value.split(|&b| b == 0).next()?;
                    return core::str::from_utf8(text).ok();
                }
            }
            NOP => {}
            _ => return None, // END, or something unexpected
        }
    }
}

/// The device tree QEMU left at `address` (`a1` at reset), as bytes.
pub fn device_tree(address: usize) -> Option<&'static [u8]> {
    if address == 0 || !address.is_multiple_of(8) {
        return None;
    }
    // SAFETY: QEMU's reset code passes the address of the device tree it
    // placed at the top of RAM, outside this image's 512 KiB; nothing writes
    // it. The header's first 8 bytes (magic, total size) are read first.
    let header = unsafe { core::slice::from_raw_parts(address as *const u8, 8) };
    if be32(header, 0)? != FDT_MAGIC {
        return None;
    }
    let size = be32(header, 4)? as usize;
    if !(8..=1 << 20).contains(&size) {
        return None;
    }
    // SAFETY: as above; `size` is the blob's own total size, checked sane.
    Some(unsafe { core::slice::from_raw_parts(address as *const u8, size) })
}

/// The value of `key=value` in the space-separated `args`.
pub fn get<'a>(args: &'a str, key: &str) -> Option<&'a str> {
    args.split_ascii_whitespace().find_map(|word| {
        let (k, v) = word.split_once('=')?;
        (k == key).then_some(v)
    })
}
