// The SQLite store's locks: the lock file beside the database (flock) and an OFD lock on the
// database file itself, so two servers never open one database.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>

#include "store/sqlite_store.hpp"

namespace cmdb {

namespace {

// The lock on the database file itself (what a hard link cannot dodge): an OFD write lock on
// one byte past the bytes SQLite locks (its lock page, 0x40000000 to 0x400001ff), so it never
// meets SQLite's own POSIX locks. The descriptor is never closed: closing any descriptor of a
// file drops every POSIX lock the process holds on it, SQLite's included. So the process keeps
// one descriptor per database file it ever locked (in this registry), and releasing the lock
// only unlocks the byte.
constexpr off_t kServeLockByte = 0x40001000;
struct FileLocks {
  std::mutex mu;
  std::map<std::pair<dev_t, ino_t>, std::pair<int, bool>> files;  // -> (descriptor, held)
};
FileLocks& TheFileLocks() {
  static FileLocks* locks = new FileLocks();  // never destroyed: the descriptors outlive statics
  return *locks;
}
bool SetServeLock(int fd, short type) {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = kServeLockByte;
  fl.l_len = 1;
  return ::fcntl(fd, F_OFD_SETLK, &fl) == 0;
}

// The path the lock file is named after: `path` with symbolic links resolved (a link to the
// database and the database itself share one lock file). Unchanged when nothing resolves.
std::string LockBase(const std::string& path) {
  std::error_code ec;
  std::filesystem::path real = std::filesystem::weakly_canonical(path, ec);
  if (ec) return path;
  std::filesystem::path plain = std::filesystem::absolute(path, ec).lexically_normal();
  if (ec || real == plain) return path;
  return real.string();
}

}  // namespace

void SqliteStore::ReleaseFileLock(std::pair<uint64_t, uint64_t> id) {
  FileLocks& locks = TheFileLocks();
  std::lock_guard l(locks.mu);
  auto it = locks.files.find({static_cast<dev_t>(id.first), static_cast<ino_t>(id.second)});
  if (it == locks.files.end()) return;
  SetServeLock(it->second.first, F_UNLCK);
  it->second.second = false;
}

Status SqliteStore::Lock() {
  if (lock_fd_ >= 0) return Status::Ok();
  // The lock file is never removed: unlinking it while another opener waits on the old inode
  // would let two processes hold "the" lock. O_CLOEXEC keeps it from children (a forked cmdbd
  // in a test must not inherit its parent's lock).
  std::string lock_path = LockBase(path_) + ".lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::Internal("cannot open the lock file '" + lock_path + "' of database '" + path_ +
                            "': " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    std::string holder = "unknown";
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    if (n > 0) {
      std::string text(buf, static_cast<size_t>(n));
      while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
      if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) holder = text;
    }
    ::close(fd);
    if (err != EWOULDBLOCK) {
      return Status::Internal("cannot lock '" + lock_path + "': " + std::strerror(err));
    }
    return Status::Conflict("database '" + path_ + "' is in use by another cmdbd (pid " + holder +
                            "; lock file '" + lock_path + "')");
  }
  // The file itself: another name of it (a hard link) has another lock file.
  {
    FileLocks& locks = TheFileLocks();
    std::lock_guard l(locks.mu);
    struct stat st {};
    int db_fd = -1;
    if (::stat(path_.c_str(), &st) == 0) {
      auto it = locks.files.find({st.st_dev, st.st_ino});
      if (it != locks.files.end()) db_fd = it->second.first;
    }
    if (db_fd < 0) {  // not open in this process yet (or not created yet: SQLite takes an empty file)
      db_fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (db_fd < 0 || ::fstat(db_fd, &st) != 0) {
        std::string why = std::strerror(errno);
        ::close(fd);
        return Status::Internal("cannot open database '" + path_ + "' to lock it: " + why);
      }
      locks.files[{st.st_dev, st.st_ino}] = {db_fd, false};
    }
    auto& entry = locks.files[{st.st_dev, st.st_ino}];
    if (entry.second || !SetServeLock(db_fd, F_WRLCK)) {
      int err = errno;
      ::close(fd);
      if (!entry.second && err != EAGAIN && err != EACCES) {
        return Status::Internal("cannot lock database '" + path_ + "': " + std::strerror(err));
      }
      return Status::Conflict("database '" + path_ + "' is in use by another cmdbd" +
                              (entry.second ? " (pid " + std::to_string(::getpid()) + ")" : std::string()) +
                              " that opened the same file under another name (a hard link): the file itself is"
                              " locked, not only '" + lock_path + "'");
    }
    entry.second = true;
    file_locked_ = true;
    file_lock_id_ = {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The lock holds all the same; only the message of a second opener loses the pid.
  }
  lock_fd_ = fd;
  return Status::Ok();
}

void SqliteStore::Log(const std::string& line) const {
  if (log_) log_(line);
  else std::cerr << "cmdbd: " << line << std::endl;
}

}  // namespace cmdb
