//! An `embassy-net` device over the virtio-net NIC of QEMU's virt board
//! (virtio-mmio, driven by `virtio-drivers`' `VirtIONetRaw`), with static
//! buffers only: the virtqueues come from a static page pool (`StaticHal`),
//! the frames from fixed receive slots and one transmit buffer inside the
//! `VirtioNet` value, which the firmware keeps in a `StaticCell`.
//!
//! Received frames raise the device's interrupt through the PLIC; the
//! handler acknowledges it and wakes the network stack.

use core::cell::UnsafeCell;
use core::ptr::{read_volatile, write_volatile, NonNull};
use core::task::Context;
use embassy_net_driver::{Capabilities, HardwareAddress, LinkState};
use embassy_sync::waitqueue::AtomicWaker;
use portable_atomic::{AtomicUsize, Ordering};
use virtio_drivers::device::net::VirtIONetRaw;
use virtio_drivers::transport::mmio::{MmioTransport, VirtIOHeader};
use virtio_drivers::transport::{DeviceType, Transport};
use virtio_drivers::{BufferDirection, Hal, PhysAddr, PAGE_SIZE};

/// The virt board's eight virtio-mmio slots: base, stride, first IRQ.
const VIRTIO_MMIO: usize = 0x1000_1000;
const VIRTIO_STRIDE: usize = 0x1000;
const VIRTIO_SLOTS: usize = 8;
const VIRTIO_FIRST_IRQ: usize = 1;
/// virtio-mmio InterruptStatus / InterruptACK registers.
const INTERRUPT_STATUS: usize = 0x60;
const INTERRUPT_ACK: usize = 0x64;

/// The PLIC, context 0 (hart 0, machine mode).
const PLIC: usize = 0x0c00_0000;
const PLIC_ENABLE: usize = PLIC + 0x2000;
const PLIC_THRESHOLD: usize = PLIC + 0x20_0000;
const PLIC_CLAIM: usize = PLIC + 0x20_0004;

/// Virtqueue size (descriptors per queue).
const QUEUE: usize = 16;
/// Receive slots posted to the device.
const RX_SLOTS: usize = 4;
/// A receive slot: virtio-net header (12 bytes) + a 1514-byte frame,
/// rounded up (virtio-drivers wants at least 1526).
const RX_LEN: usize = 1536;
/// The largest frame sent (Ethernet header + 1500 bytes of IP).
const MTU: usize = 1514;
/// Pages of the DMA pool: each of the two 16-entry virtqueues takes two
/// (descriptors + driver area, then device area; the legacy layout needs
/// the same two, contiguous). The boot log prints the use.
pub const POOL_PAGES: usize = 4;

type Net = VirtIONetRaw<StaticHal, MmioTransport<'static>, QUEUE>;

/// Page-aligned DMA memory for the virtqueues, handed out once at boot.
#[repr(C, align(4096))]
struct Pool(UnsafeCell<[u8; POOL_PAGES * PAGE_SIZE]>);

// SAFETY: the pool is only reached through `dma_alloc`, which gives every
// page to one caller only (under a critical section), and the device.
unsafe impl Sync for Pool {}

static POOL: Pool = Pool(UnsafeCell::new([0; POOL_PAGES * PAGE_SIZE]));
static POOL_USED: AtomicUsize = AtomicUsize::new(0);

/// Wakes the network stack when the NIC interrupts.
static WAKER: AtomicWaker = AtomicWaker::new();
/// The NIC's MMIO base and IRQ, for the interrupt handler (0: none).
static NIC_BASE: AtomicUsize = AtomicUsize::new(0);
static NIC_IRQ: AtomicUsize = AtomicUsize::new(0);

/// virtio-drivers' platform layer: identity-mapped memory (no MMU, no
/// IOMMU: the device sees the CPU's addresses) and a static DMA pool.
pub struct StaticHal;

// SAFETY: `dma_alloc` returns zeroed, page-aligned pages of POOL that are
// never handed out twice (a bump allocator, nothing is ever freed); the
// other functions are identities, which is right without address
// translation.
unsafe impl Hal for StaticHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        let first = critical_section::with(|_| {
            let first = POOL_USED.load(Ordering::Relaxed);
            let end = first.saturating_add(pages);
            if end > POOL_PAGES {
                return None;
            }
            POOL_USED.store(end, Ordering::Relaxed);
            Some(first)
        });
        // Sized for this driver's two queues at build time: running out is
        // a bug in POOL_PAGES, found at the first boot (the trait has no
        // way to return an error).
        let Some(first) = first else {
            panic!("virtio DMA pool exhausted ({pages} more pages asked)");
        };
        let base = POOL.0.get().cast::<u8>();
        // SAFETY: first + pages <= POOL_PAGES, so the offset stays inside POOL.
        let ptr = unsafe { base.add(first * PAGE_SIZE) };
        let Some(ptr) = NonNull::new(ptr) else {
            panic!("null DMA page");
        };
        (ptr.as_ptr() as usize as PhysAddr, ptr)
    }

    unsafe fn dma_dealloc(_paddr: PhysAddr, _vaddr: NonNull<u8>, _pages: usize) -> i32 {
        // The driver lives forever; nothing is given back.
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, _size: usize) -> NonNull<u8> {
        match NonNull::new(paddr as usize as *mut u8) {
            Some(p) => p,
            None => panic!("MMIO at address 0"),
        }
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> PhysAddr {
        buffer.as_ptr().cast::<u8>() as usize as PhysAddr
    }

    unsafe fn unshare(_paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {}
}

struct RxSlot {
    buf: [u8; RX_LEN],
    /// The virtqueue token while the slot is posted to the device.
    token: Option<u16>,
}

/// The NIC as an `embassy_net_driver::Driver`.
pub struct VirtioNet {
    net: Net,
    rx: [RxSlot; RX_SLOTS],
    tx: [u8; MTU],
    /// The slot whose frame the stack last read: posted again at the next
    /// `receive` (the stack's receive token borrows it until then).
    consumed: Option<usize>,
    mac: [u8; 6],
}

/// Why no NIC could be used.
#[derive(Debug)]
pub enum ProbeError {
    /// No virtio-net device in the eight virtio-mmio slots.
    NotFound,
    /// virtio-drivers refused to initialise it.
    Init(virtio_drivers::Error),
}

impl core::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ProbeError::NotFound => f.write_str("no virtio-net device on the virtio-mmio bus"),
            ProbeError::Init(e) => write!(f, "virtio-net initialisation failed: {e}"),
        }
    }
}

impl VirtioNet {
    /// Finds the virtio-net device among the virtio-mmio slots and
    /// initialises it. Call [`VirtioNet::start`] once the value is in its
    /// final (static) place.
    pub fn probe() -> Result<Self, ProbeError> {
        for slot in 0..VIRTIO_SLOTS {
            let base = VIRTIO_MMIO + slot * VIRTIO_STRIDE;
            let Some(header) = NonNull::new(base as *mut VirtIOHeader) else {
                continue;
            };
            // SAFETY: each virtio-mmio slot of the virt board is a 4 KiB
            // MMIO region, always mapped; this is its only user.
            let Ok(transport) = (unsafe { MmioTransport::new(header, VIRTIO_STRIDE) }) else {
                continue;
            };
            if transport.device_type() != DeviceType::Network {
                continue;
            }
            let net = Net::new(transport).map_err(ProbeError::Init)?;
            NIC_BASE.store(base, Ordering::Relaxed);
            NIC_IRQ.store(VIRTIO_FIRST_IRQ + slot, Ordering::Relaxed);
            let mac = net.mac_address();
            const EMPTY: RxSlot = RxSlot {
                buf: [0; RX_LEN],
                token: None,
            };
            return Ok(VirtioNet {
                net,
                rx: [EMPTY; RX_SLOTS],
                tx: [0; MTU],
                consumed: None,
                mac,
            });
        }
        Err(ProbeError::NotFound)
    }

    /// Pages of the DMA pool in use.
    pub fn dma_pages_used() -> usize {
        POOL_USED.load(Ordering::Relaxed)
    }

    /// The NIC's MAC address.
    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    /// Posts every receive slot and enables the NIC's interrupt. The
    /// slots must not move any more: hence `&'static mut`.
    pub fn start(&'static mut self) -> &'static mut Self {
        for i in 0..RX_SLOTS {
            self.post(i);
        }
        let irq = NIC_IRQ.load(Ordering::Relaxed);
        // SAFETY: PLIC registers of context 0 (hart 0, M-mode) on QEMU's
        // virt machine, always mapped: priority 1 for the NIC's source,
        // its enable bit, threshold 0. The handler below is the only other
        // user, and it runs only once MEIE is set here.
        unsafe {
            write_volatile((PLIC + 4 * irq) as *mut u32, 1);
            let enable = (PLIC_ENABLE + 4 * (irq / 32)) as *mut u32;
            write_volatile(enable, read_volatile(enable) | 1 << (irq % 32));
            write_volatile(PLIC_THRESHOLD as *mut u32, 0);
            riscv::register::mie::set_mext();
        }
        self
    }

    fn post(&mut self, i: usize) {
        let Some(slot) = self.rx.get_mut(i) else {
            return;
        };
        // SAFETY: the slot's buffer lives in this `'static` value and is
        // not touched until the device hands its token back through
        // `poll_receive` and `receive_complete` (see `receive`).
        match unsafe { self.net.receive_begin(&mut slot.buf) } {
            Ok(token) => slot.token = Some(token),
            Err(e) => log::warn!("virtio-net: cannot post receive slot {i}: {e:?}"),
        }
    }
}

/// A received frame, inside its slot.
pub struct RxToken<'a> {
    frame: &'a mut [u8],
}

impl embassy_net_driver::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, f: F) -> R {
        f(self.frame)
    }
}

/// Room for one frame; sent when consumed.
pub struct TxToken<'a> {
    net: &'a mut Net,
    buf: &'a mut [u8; MTU],
}

impl embassy_net_driver::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let frame = match self.buf.get_mut(..len) {
            Some(frame) => frame,
            None => &mut self.buf[..],
        };
        let r = f(frame);
        // `send` adds the virtio-net header and waits for the device to
        // take the frame (QEMU does at once).
        if let Err(e) = self.net.send(frame) {
            log::warn!("virtio-net: send failed: {e:?}");
        }
        r
    }
}

impl embassy_net_driver::Driver for VirtioNet {
    type RxToken<'a>
        = RxToken<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = TxToken<'a>
    where
        Self: 'a;

    fn receive(&mut self, cx: &mut Context<'_>) -> Option<(RxToken<'_>, TxToken<'_>)> {
        if let Some(i) = self.consumed.take() {
            self.post(i);
        }
        WAKER.register(cx.waker());
        let token = self.net.poll_receive()?;
        let Self {
            net,
            rx,
            tx,
            consumed,
            ..
        } = self;
        let Some(i) = rx.iter().position(|s| s.token == Some(token)) else {
            log::warn!("virtio-net: unknown receive token {token}");
            return None;
        };
        let slot = rx.get_mut(i)?;
        slot.token = None;
        *consumed = Some(i);
        // SAFETY: `slot.buf` is the buffer posted with this token.
        match unsafe { net.receive_complete(token, &mut slot.buf) } {
            Ok((header, len)) => {
                let frame = slot.buf.get_mut(header..header.saturating_add(len))?;
                Some((RxToken { frame }, TxToken { net, buf: tx }))
            }
            Err(e) => {
                log::warn!("virtio-net: receive failed: {e:?}");
                cx.waker().wake_by_ref();
                None
            }
        }
    }

    fn transmit(&mut self, _cx: &mut Context<'_>) -> Option<TxToken<'_>> {
        Some(TxToken {
            net: &mut self.net,
            buf: &mut self.tx,
        })
    }

    fn link_state(&mut self, _cx: &mut Context<'_>) -> LinkState {
        LinkState::Up
    }

    fn capabilities(&self) -> Capabilities {
        let mut caps = Capabilities::default();
        caps.max_transmission_unit = MTU;
        caps.max_burst_size = Some(1);
        caps
    }

    fn hardware_address(&self) -> HardwareAddress {
        HardwareAddress::Ethernet(self.mac)
    }
}

#[riscv_rt::core_interrupt(riscv::interrupt::Interrupt::MachineExternal)]
fn machine_external() {
    // SAFETY: the PLIC's claim/complete register of context 0 and the NIC's
    // interrupt status/ack registers, always mapped. Claiming, acking the
    // device and completing is the PLIC's protocol; nothing else uses
    // these registers while the handler runs (interrupts are off).
    unsafe {
        let claimed = read_volatile(PLIC_CLAIM as *const u32);
        if claimed == 0 {
            return;
        }
        let base = NIC_BASE.load(Ordering::Relaxed);
        if claimed as usize == NIC_IRQ.load(Ordering::Relaxed) && base != 0 {
            let status = read_volatile((base + INTERRUPT_STATUS) as *const u32);
            write_volatile((base + INTERRUPT_ACK) as *mut u32, status);
            WAKER.wake();
        }
        write_volatile(PLIC_CLAIM as *mut u32, claimed);
    }
}
