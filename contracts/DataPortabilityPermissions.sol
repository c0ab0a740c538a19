// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IDataRegistry} from "./IDataRegistry.sol";
import {IDataPortabilityServers} from "./IDataPortabilityServers.sol";
import {IDataPortabilityGrantees} from "./IDataPortabilityGrantees.sol";

/// @title DataPortabilityPermissions (local stack)
/// @notice The gasless entry point of the data-portability flow: a user signs a
/// `ServerFilesAndPermission` EIP-712 message and anyone submits it (PROTOCOL.md 2). One call
/// registers or trusts the user's personal server, adds the files with their encrypted keys and
/// creates a permission for a grantee.
/// @dev Deliberately smaller than Vana's: no revocation (endBlock is always max), no
/// `addPermission`, no per-user or per-file permission lists (they would add storage writes to
/// the hot path that the flow never reads), not upgradeable, not pausable, no trusted forwarder.
/// Signatures are checked with OZ ECDSA like Vana's: 65 bytes, v 27/28, low s; anything else
/// reverts with an OZ `ECDSAInvalidSignature*` error.
contract DataPortabilityPermissions is EIP712 {
    struct ServerFilesAndPermissionInput {
        uint256 nonce;
        uint256 granteeId;
        string grant;
        string[] fileUrls;
        uint256[] schemaIds;
        address serverAddress;
        string serverUrl;
        string serverPublicKey;
        IDataRegistry.Permission[][] filePermissions;
    }

    struct PermissionInfo {
        uint256 id;
        address grantor;
        uint256 nonce;
        uint256 granteeId;
        string grant;
        uint256 startBlock;
        uint256 endBlock;
        uint256[] fileIds;
    }

    // Packed into two slots plus the grant string and the id list. A user nonce grows by one per
    // permission and a grantee id is bounded by granteesCount, so 128 bits never truncate.
    struct StoredPermission {
        address grantor;
        uint64 startBlock;
        uint128 nonce;
        uint128 granteeId;
        string grant;
        uint256[] fileIds;
    }

    event PermissionAdded(
        uint256 indexed permissionId,
        address indexed user,
        uint256 indexed granteeId,
        string grant,
        uint256[] fileIds
    );

    error InvalidNonce(uint256 expectedNonce, uint256 providedNonce);
    error InvalidSchemaIdsLength(uint256 filesLength, uint256 schemaIdsLength);
    error InvalidPermissionsLength(uint256 filesLength, uint256 permissionsLength);
    error NotFileOwner(address fileOwner, address requestor);
    error GranteeNotFound();
    error EmptyGrant();

    /// @notice keccak256 of the ServerFilesAndPermission type string (PROTOCOL.md 2.3); it must be
    /// 0xaadba5e5d798a00ee9890b1a8838ff5ef09b769bea8b22ad4e0e9c8ff6a12e41.
    bytes32 public constant SERVER_FILES_AND_PERMISSION_TYPEHASH =
        keccak256(
            "ServerFilesAndPermission(uint256 nonce,uint256 granteeId,string grant,string[] fileUrls,uint256[] schemaIds,address serverAddress,string serverUrl,string serverPublicKey,Permission[][] filePermissions)Permission(address account,string key)"
        );
    bytes32 private constant PERMISSION_TYPEHASH = keccak256("Permission(address account,string key)");

    IDataRegistry public immutable dataRegistry;
    IDataPortabilityServers public immutable dataPortabilityServers;
    IDataPortabilityGrantees public immutable dataPortabilityGrantees;

    uint256 public permissionsCount;
    mapping(address userAddress => uint256 nonce) public userNonce;
    mapping(uint256 permissionId => StoredPermission) private _permissions;

    constructor(
        IDataRegistry dataRegistry_,
        IDataPortabilityServers dataPortabilityServers_,
        IDataPortabilityGrantees dataPortabilityGrantees_
    ) EIP712("VanaDataPortabilityPermissions", "1") {
        dataRegistry = dataRegistry_;
        dataPortabilityServers = dataPortabilityServers_;
        dataPortabilityGrantees = dataPortabilityGrantees_;
    }

    /// @notice Contract version, as Vana's implementation reports it.
    function version() external pure returns (uint256) {
        return 2;
    }

    /// @notice Registers-or-trusts the server, adds the files (or permissions on files the signer
    /// already owns) and creates a permission for `granteeId`, in the order of PROTOCOL.md 2.4.
    /// @return permissionId the id of the new permission (also in the PermissionAdded event)
    function addServerFilesAndPermissions(
        ServerFilesAndPermissionInput calldata input,
        bytes calldata signature
    ) external returns (uint256 permissionId) {
        address signer = ECDSA.recoverCalldata(_hashTypedDataV4(_hashServerFilesAndPermission(input)), signature);

        uint256 expectedNonce = userNonce[signer];
        if (input.nonce != expectedNonce) revert InvalidNonce(expectedNonce, input.nonce);
        userNonce[signer] = expectedNonce + 1;

        uint256 filesLength = input.fileUrls.length;
        if (input.schemaIds.length != filesLength) revert InvalidSchemaIdsLength(filesLength, input.schemaIds.length);
        if (input.filePermissions.length != filesLength) {
            revert InvalidPermissionsLength(filesLength, input.filePermissions.length);
        }

        uint256 serverId = dataPortabilityServers.serverAddressToId(input.serverAddress);
        if (serverId == 0) {
            dataPortabilityServers.addAndTrustServerByManager(
                signer,
                IDataPortabilityServers.AddServerInput(input.serverAddress, input.serverPublicKey, input.serverUrl)
            );
        } else {
            dataPortabilityServers.trustServerByManager(signer, serverId);
        }

        uint256[] memory fileIds = new uint256[](filesLength);
        for (uint256 i = 0; i < filesLength; ++i) {
            fileIds[i] = _addFile(signer, input.fileUrls[i], input.filePermissions[i], input.schemaIds[i]);
        }

        if (bytes(input.grant).length == 0) revert EmptyGrant();
        if (input.granteeId == 0 || input.granteeId > dataPortabilityGrantees.granteesCount()) revert GranteeNotFound();

        permissionId = ++permissionsCount;
        dataPortabilityGrantees.addPermissionToGrantee(input.granteeId, permissionId);
        StoredPermission storage permission = _permissions[permissionId];
        permission.grantor = signer;
        permission.startBlock = uint64(block.number);
        permission.nonce = uint128(input.nonce);
        permission.granteeId = uint128(input.granteeId);
        permission.grant = input.grant;
        permission.fileIds = fileIds;
        emit PermissionAdded(permissionId, signer, input.granteeId, input.grant, fileIds);
    }

    /// @notice A permission; a missing id reads as the zero struct.
    function permissions(uint256 permissionId) external view returns (PermissionInfo memory) {
        StoredPermission storage permission = _permissions[permissionId];
        if (permission.grantor == address(0)) return PermissionInfo(0, address(0), 0, 0, "", 0, 0, new uint256[](0));
        return
            PermissionInfo(
                permissionId,
                permission.grantor,
                permission.nonce,
                permission.granteeId,
                permission.grant,
                permission.startBlock,
                type(uint256).max,
                permission.fileIds
            );
    }

    function permissionFileIds(uint256 permissionId) external view returns (uint256[] memory) {
        return _permissions[permissionId].fileIds;
    }

    function _addFile(
        address signer,
        string calldata url,
        IDataRegistry.Permission[] calldata filePermissions,
        uint256 schemaId
    ) private returns (uint256 fileId) {
        fileId = dataRegistry.fileIdByUrl(url);
        if (fileId == 0) return dataRegistry.addFileWithPermissionsAndSchema(url, signer, filePermissions, schemaId);
        address owner = dataRegistry.files(fileId).ownerAddress;
        if (owner != signer) revert NotFileOwner(owner, signer);
        dataRegistry.addFilePermissionsAndSchema(fileId, filePermissions, schemaId);
    }

    // Standard EIP-712 encodeData: strings and bytes as keccak256 of their content, arrays as
    // keccak256 of the concatenated encodings of their elements, structs as their hashStruct.
    function _hashServerFilesAndPermission(ServerFilesAndPermissionInput calldata input) private pure returns (bytes32) {
        // Two abi.encode halves (all words are static) instead of one, to stay within the stack.
        return
            keccak256(
                bytes.concat(
                    abi.encode(
                        SERVER_FILES_AND_PERMISSION_TYPEHASH,
                        input.nonce,
                        input.granteeId,
                        keccak256(bytes(input.grant)),
                        _hashStrings(input.fileUrls)
                    ),
                    abi.encode(
                        keccak256(abi.encodePacked(input.schemaIds)),
                        input.serverAddress,
                        keccak256(bytes(input.serverUrl)),
                        keccak256(bytes(input.serverPublicKey)),
                        _hashFilePermissions(input.filePermissions)
                    )
                )
            );
    }

    function _hashStrings(string[] calldata values) private pure returns (bytes32) {
        bytes32[] memory hashes = new bytes32[](values.length);
        for (uint256 i = 0; i < values.length; ++i) hashes[i] = keccak256(bytes(values[i]));
        return keccak256(abi.encodePacked(hashes));
    }

    function _hashFilePermissions(IDataRegistry.Permission[][] calldata values) private pure returns (bytes32) {
        bytes32[] memory hashes = new bytes32[](values.length);
        for (uint256 i = 0; i < values.length; ++i) {
            IDataRegistry.Permission[] calldata inner = values[i];
            bytes32[] memory innerHashes = new bytes32[](inner.length);
            for (uint256 j = 0; j < inner.length; ++j) {
                innerHashes[j] = keccak256(
                    abi.encode(PERMISSION_TYPEHASH, inner[j].account, keccak256(bytes(inner[j].key)))
                );
            }
            hashes[i] = keccak256(abi.encodePacked(innerHashes));
        }
        return keccak256(abi.encodePacked(hashes));
    }
}
