// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice The DataRegistry surface of PROTOCOL.md 3 that the local stack implements. Function,
/// event and error signatures match Vana's so that the same client speaks to both.
interface IDataRegistry {
    /// @notice An encrypted file key for one account (ECIES hex without 0x, PROTOCOL.md 6).
    struct Permission {
        address account;
        string key;
    }

    struct FileResponse {
        uint256 id;
        address ownerAddress;
        string url;
        uint256 schemaId;
        uint256 addedAtBlock;
    }

    event FileAdded(uint256 indexed fileId, address indexed ownerAddress, string url);
    event FileAddedV2(uint256 indexed fileId, address indexed ownerAddress, string url, uint256 schemaId);
    event PermissionGranted(uint256 indexed fileId, address indexed account);

    error FileUrlAlreadyUsed();
    error NotFileOwner();
    error FileNotFound();
    error InvalidSchemaId(uint256 schemaId);

    function addFile(string calldata url) external returns (uint256);

    function addFileWithSchema(string calldata url, uint256 schemaId) external returns (uint256);

    function addFileWithPermissions(
        string calldata url,
        address ownerAddress,
        Permission[] calldata permissions
    ) external returns (uint256);

    function addFileWithPermissionsAndSchema(
        string calldata url,
        address ownerAddress,
        Permission[] calldata permissions,
        uint256 schemaId
    ) external returns (uint256);

    function addFilePermission(uint256 fileId, address account, string calldata key) external;

    function addFilePermissionsAndSchema(uint256 fileId, Permission[] calldata permissions, uint256 schemaId) external;

    function files(uint256 fileId) external view returns (FileResponse memory);

    function fileIdByUrl(string calldata url) external view returns (uint256);

    function filesCount() external view returns (uint256);

    function filePermissions(uint256 fileId, address account) external view returns (string memory);

    function emitLegacyEvents() external view returns (bool);
}
