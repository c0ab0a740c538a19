// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IDataRegistry} from "./IDataRegistry.sol";

/// @title DataRegistry (local stack)
/// @notice Files (URL, owner, schema) and the per-account encrypted keys of each file, with
/// Vana's external surface (PROTOCOL.md 3). Not upgradeable, not pausable: it only ever runs on
/// the local anvil chain.
/// @dev Schema ids: there is no DataRefinerRegistry locally, so only schemaId 0 ("no schema") is
/// accepted; any other id reverts `InvalidSchemaId`, as Vana's would for an id that was never
/// registered. As in Vana, `addFileWith*` have no caller check: anyone may add a file for any owner.
contract DataRegistry is IDataRegistry, AccessControl {
    bytes32 public constant DATA_PORTABILITY_ROLE = keccak256("DATA_PORTABILITY_ROLE");

    /// @notice Always true here: both FileAdded and FileAddedV2 are emitted for a new file.
    /// A constant rather than a flag in storage, which saves an SLOAD on the hot path.
    bool public constant emitLegacyEvents = true;

    // Owner and block share one slot (the hot path writes it once). No schemaId field: only 0 is
    // accepted, so every file's schema is 0.
    struct File {
        address ownerAddress;
        uint64 addedAtBlock;
        string url;
    }

    uint256 public filesCount;
    mapping(uint256 fileId => File) private _files;
    mapping(bytes32 urlHash => uint256 fileId) private _fileIdByUrlHash;
    mapping(uint256 fileId => mapping(address account => string key)) private _filePermissions;

    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    function addFile(string calldata url) external returns (uint256) {
        return _addFile(url, msg.sender, 0);
    }

    function addFileWithSchema(string calldata url, uint256 schemaId) external returns (uint256) {
        return _addFile(url, msg.sender, schemaId);
    }

    function addFileWithPermissions(
        string calldata url,
        address ownerAddress,
        Permission[] calldata permissions
    ) external returns (uint256) {
        uint256 fileId = _addFile(url, ownerAddress, 0);
        _addPermissions(fileId, permissions);
        return fileId;
    }

    function addFileWithPermissionsAndSchema(
        string calldata url,
        address ownerAddress,
        Permission[] calldata permissions,
        uint256 schemaId
    ) external returns (uint256) {
        uint256 fileId = _addFile(url, ownerAddress, schemaId);
        _addPermissions(fileId, permissions);
        return fileId;
    }

    /// @notice Adds or replaces the key of `account` for a file. Caller: the file owner or a
    /// holder of DATA_PORTABILITY_ROLE.
    function addFilePermission(uint256 fileId, address account, string calldata key) external {
        File storage file = _existingFile(fileId);
        if (msg.sender != file.ownerAddress && !hasRole(DATA_PORTABILITY_ROLE, msg.sender)) revert NotFileOwner();
        _filePermissions[fileId][account] = key;
        emit PermissionGranted(fileId, account);
    }

    /// @notice The existing-file path of Permissions.addServerFilesAndPermissions: emits
    /// FileAddedV2, then one PermissionGranted per entry. DATA_PORTABILITY_ROLE only.
    function addFilePermissionsAndSchema(
        uint256 fileId,
        Permission[] calldata permissions,
        uint256 schemaId
    ) external onlyRole(DATA_PORTABILITY_ROLE) {
        File storage file = _existingFile(fileId);
        _checkSchemaId(schemaId);
        emit FileAddedV2(fileId, file.ownerAddress, file.url, schemaId);
        _addPermissions(fileId, permissions);
    }

    function files(uint256 fileId) external view returns (FileResponse memory) {
        // A missing id reads as the zero struct, as on Vana.
        if (fileId == 0 || fileId > filesCount) return FileResponse(0, address(0), "", 0, 0);
        File storage file = _files[fileId];
        return FileResponse(fileId, file.ownerAddress, file.url, 0, file.addedAtBlock);
    }

    function fileIdByUrl(string calldata url) external view returns (uint256) {
        return _fileIdByUrlHash[keccak256(bytes(url))];
    }

    function filePermissions(uint256 fileId, address account) external view returns (string memory) {
        return _filePermissions[fileId][account];
    }

    function _addFile(string calldata url, address ownerAddress, uint256 schemaId) private returns (uint256 fileId) {
        _checkSchemaId(schemaId);
        bytes32 urlHash = keccak256(bytes(url));
        if (_fileIdByUrlHash[urlHash] != 0) revert FileUrlAlreadyUsed();
        fileId = ++filesCount;
        _fileIdByUrlHash[urlHash] = fileId;
        File storage file = _files[fileId];
        file.ownerAddress = ownerAddress;
        file.addedAtBlock = uint64(block.number);
        file.url = url;
        emit FileAdded(fileId, ownerAddress, url);
        emit FileAddedV2(fileId, ownerAddress, url, schemaId);
    }

    function _addPermissions(uint256 fileId, Permission[] calldata permissions) private {
        for (uint256 i = 0; i < permissions.length; ++i) {
            Permission calldata permission = permissions[i];
            _filePermissions[fileId][permission.account] = permission.key;
            emit PermissionGranted(fileId, permission.account);
        }
    }

    function _existingFile(uint256 fileId) private view returns (File storage) {
        if (fileId == 0 || fileId > filesCount) revert FileNotFound();
        return _files[fileId];
    }

    function _checkSchemaId(uint256 schemaId) private pure {
        if (schemaId != 0) revert InvalidSchemaId(schemaId);
    }
}
