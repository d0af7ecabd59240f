//! Child processes that never outlive Aviary. `kill_on_drop` stops a child when its handle is
//! dropped, but nothing is dropped when the process is killed (SIGKILL, a crash) or exits
//! before a background thread has finished dropping: the emulator and the sample apps were
//! left running. On Linux the kernel's parent-death signal closes that gap.

use tokio::process::Command;

/// Makes the child started by `cmd` receive SIGKILL when the thread that starts it exits —
/// which includes this process dying in any way. So start it from a thread that lives as long
/// as the child is wanted: a runtime's `block_on` thread, or the data plane's control thread.
pub fn dies_with_starting_thread(cmd: &mut Command) -> &mut Command {
    #[cfg(target_os = "linux")]
    {
        let parent = std::process::id();
        // SAFETY: between fork and exec the closure makes only async-signal-safe calls
        // (prctl, getppid, _exit) and allocates nothing.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The parent died before the signal was armed: nobody will send it.
                if libc::getppid() as u32 != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
    }
    cmd
}
