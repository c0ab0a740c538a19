// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IDataPortabilityServers} from "./IDataPortabilityServers.sol";

/// @title DataPortabilityServers (local stack)
/// @notice Personal-server registry and per-user trust lists with Vana's external surface
/// (PROTOCOL.md 4), limited to what the data-portability flow uses: the manager functions called
/// by the Permissions contract and the views. No signature variants, no untrust, no updates.
contract DataPortabilityServers is IDataPortabilityServers, AccessControl {
    bytes32 public constant PERMISSION_MANAGER_ROLE = keccak256("PERMISSION_MANAGER_ROLE");

    struct Server {
        address owner;
        address serverAddress;
        string publicKey;
        string url;
    }

    // Trust is never revoked here, so only the start block is kept; endBlock reads as max.
    // `position` is the 1-based index in the user's id list, 0 = not trusted.
    struct Trust {
        uint64 startBlock;
        uint64 position;
    }

    uint256 public serversCount;
    mapping(uint256 serverId => Server) private _servers;
    mapping(address serverAddress => uint256 serverId) public serverAddressToId;
    mapping(address user => uint256[] serverIds) private _userServerIds;
    mapping(address user => mapping(uint256 serverId => Trust)) private _trust;

    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Registers a server owned by `ownerAddress` and makes that owner trust it.
    /// Emits ServerRegistered, then ServerTrusted.
    function addAndTrustServerByManager(
        address ownerAddress,
        AddServerInput calldata addServerInput
    ) external onlyRole(PERMISSION_MANAGER_ROLE) {
        if (ownerAddress == address(0) || addServerInput.serverAddress == address(0)) revert ZeroAddress();
        if (bytes(addServerInput.publicKey).length == 0) revert EmptyPublicKey();
        if (bytes(addServerInput.serverUrl).length == 0) revert EmptyUrl();
        if (serverAddressToId[addServerInput.serverAddress] != 0) revert ServerAlreadyRegistered();

        uint256 serverId = ++serversCount;
        serverAddressToId[addServerInput.serverAddress] = serverId;
        Server storage server = _servers[serverId];
        server.owner = ownerAddress;
        server.serverAddress = addServerInput.serverAddress;
        server.publicKey = addServerInput.publicKey;
        server.url = addServerInput.serverUrl;
        emit ServerRegistered(
            serverId,
            ownerAddress,
            addServerInput.serverAddress,
            addServerInput.publicKey,
            addServerInput.serverUrl
        );
        _trustServer(ownerAddress, serverId);
    }

    /// @notice Makes `userAddress` trust a registered server. Idempotent: trusting again changes
    /// nothing but still emits ServerTrusted, as on Vana.
    function trustServerByManager(address userAddress, uint256 serverId) external onlyRole(PERMISSION_MANAGER_ROLE) {
        if (serverId == 0 || serverId > serversCount) revert ServerNotFound();
        _trustServer(userAddress, serverId);
    }

    function servers(uint256 serverId) public view returns (ServerInfo memory) {
        Server storage server = _servers[serverId];
        if (server.serverAddress == address(0)) return ServerInfo(0, address(0), address(0), "", "");
        return ServerInfo(serverId, server.owner, server.serverAddress, server.publicKey, server.url);
    }

    function serverByAddress(address serverAddress) external view returns (ServerInfo memory) {
        return servers(serverAddressToId[serverAddress]);
    }

    function userServers(address userAddress, uint256 serverId) external view returns (TrustedServerInfo memory) {
        Trust storage trust = _trust[userAddress][serverId];
        if (trust.position == 0) return TrustedServerInfo(0, address(0), address(0), "", "", 0, 0);
        Server storage server = _servers[serverId];
        return
            TrustedServerInfo(
                serverId,
                server.owner,
                server.serverAddress,
                server.publicKey,
                server.url,
                trust.startBlock,
                type(uint256).max
            );
    }

    function userServerIdsLength(address userAddress) external view returns (uint256) {
        return _userServerIds[userAddress].length;
    }

    function userServerIdsAt(address userAddress, uint256 index) external view returns (uint256) {
        return _userServerIds[userAddress][index];
    }

    function userServerIdsValues(address userAddress) external view returns (uint256[] memory) {
        return _userServerIds[userAddress];
    }

    function _trustServer(address userAddress, uint256 serverId) private {
        Trust storage trust = _trust[userAddress][serverId];
        if (trust.position == 0) {
            uint256[] storage ids = _userServerIds[userAddress];
            ids.push(serverId);
            trust.startBlock = uint64(block.number);
            trust.position = uint64(ids.length);
        }
        emit ServerTrusted(userAddress, serverId);
    }
}
