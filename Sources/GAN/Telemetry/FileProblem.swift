import Foundation

/// Plain words for what Foundation reports about files ("Error Domain=NSCocoaErrorDomain Code=4 ..."): the
/// path and what is wrong with it, from the underlying POSIX error.
public enum FileProblem {
    /// `error` as one line naming the path, when it is a file-system error; nil otherwise.
    public static func message(_ error: Error) -> String? {
        let error = error as NSError
        guard error.domain == NSCocoaErrorDomain || error.domain == NSPOSIXErrorDomain else { return nil }
        let path = (error.userInfo[NSFilePathErrorKey] as? String) ?? (error.userInfo[NSURLErrorKey] as? URL)?.path
        return "\(path ?? "a file operation"): \(reason(error))"
    }

    /// What is wrong, in words: the POSIX error underneath when there is one.
    public static func reason(_ error: Error) -> String {
        let error = error as NSError
        let underlying = (error.userInfo[NSUnderlyingErrorKey] as? Error).map { $0 as NSError }
        let posix = [underlying, error].compactMap { $0 }.first { $0.domain == NSPOSIXErrorDomain }.map {
            Int32($0.code)
        }
        switch posix {
        case ENOENT?: return "no such file or folder (does the folder it is in exist?)"
        case EEXIST?: return "something of that name is already there (a file where a folder should be?)"
        case ENOTDIR?: return "a file is in the way where a folder should be"
        case EISDIR?: return "it is a folder, not a file"
        case ENOSPC?: return "the disk is full"
        case EDQUOT?: return "the disk quota is exhausted"
        case EACCES?, EPERM?: return "permission denied"
        case EROFS?: return "the file system is read-only"
        case let code?: return String(cString: strerror(code))
        case nil:
            if error.code == NSFileReadUnknownError || error.code == NSFileReadNoPermissionError,
                let path = error.userInfo[NSFilePathErrorKey] as? String
            {
                var isFolder: ObjCBool = false
                if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
                    return "it is a folder, not a file"
                }
            }
            return error.localizedDescription
        }
    }
}
