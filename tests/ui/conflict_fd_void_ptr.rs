use std::os::fd::OwnedFd;
use vmstate_core::VmState;

#[derive(VmState)]
#[vmstate(name = "dev", version = 1)]
struct Dev {
    #[vmstate(fd, void_ptr)]
    ram: OwnedFd,
}

fn main() {}
