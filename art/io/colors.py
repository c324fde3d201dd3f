"""Colour control before the targets are captured (Gatys et al., "Controlling Perceptual
Factors in Neural Style Transfer", arXiv 1611.07865, section 5), and masks read from
pictures. Numpy only; pictures are (height, width, 3) RGB in 0..255, uint8 or float.

Luminance is Y of YCbCr as JPEG defines it (ITU-R BT.601, full range), the Y that
--preserve-colors keeps, so that a painting in luminance joins the content's
chroma (Cb, Cr) with the same transform it was split by.
"""
import numpy as np

COLOR_CONTROLS = ('none', 'luminance', 'histogram')
COLOR_MATCHES = ('sym', 'pca', 'chol')
LUMA = np.array([0.299, 0.587, 0.114])


def luminance(pixels):
    """Y (BT.601) of RGB pixels, float64 (height, width)."""
    return np.asarray(pixels, np.float64) @ LUMA


def gray(values):
    """(height, width) values as the RGB picture of three equal channels."""
    return np.repeat(np.asarray(values, np.float64)[..., None], 3, axis=2)


def luminance_only(content, styles):
    """(content, styles) as the network sees them under --color-control luminance: each
    picture's Y as three equal channels, each style's Y moved to the content's mean and
    standard deviation (section 5.2): Y_s' = (Y_s - mu_s) sigma_c / sigma_s + mu_c."""
    content_y = luminance(content)
    matched = []
    for style in styles:
        style_y = luminance(style)
        spread = style_y.std()
        scale = content_y.std() / spread if spread > 0 else 0.0
        matched.append(gray((style_y - style_y.mean()) * scale + content_y.mean()))
    return gray(content_y), matched


def _square_root(covariance, inverse=False):
    """The symmetric square root of a covariance (its inverse with `inverse`), by eigh."""
    eigenvalues, vectors = np.linalg.eigh(covariance)
    roots = np.sqrt(np.maximum(eigenvalues, 1e-12 * eigenvalues.max()))
    return (vectors * (1 / roots if inverse else roots)) @ vectors.T


def color_transform(style_covariance, content_covariance, mode):
    """The 3x3 A with A Sigma_s A^T = Sigma_c (section 5.1):

    - 'chol': A = L_c L_s^-1, L the Cholesky factors (depends on the channel order);
    - 'pca': A = Sigma_c^(1/2) Sigma_s^(-1/2), the eigen-decomposition's square roots;
    - 'sym': A = Sigma_s^(-1/2) (Sigma_s^(1/2) Sigma_c Sigma_s^(1/2))^(1/2) Sigma_s^(-1/2),
      symmetric: the map between the two Gaussians that moves colours least (the
      Monge-Kantorovich solution), so it keeps most of the style's own palette. The default.
    """
    if mode == 'chol':
        return np.linalg.cholesky(content_covariance) @ np.linalg.inv(
            np.linalg.cholesky(style_covariance))
    if mode == 'pca':
        return _square_root(content_covariance) @ _square_root(style_covariance, inverse=True)
    if mode == 'sym':
        root, inverse = _square_root(style_covariance), _square_root(style_covariance, True)
        return inverse @ _square_root(root @ content_covariance @ root) @ inverse
    raise ValueError('color match must be one of %s' % ', '.join(COLOR_MATCHES))


def match_colors(style, content, mode='sym'):
    """`style` (float64, not clipped) with the content's colour mean and covariance:
    x' = A (x - mu_s) + mu_c, A from color_transform. A style of one flat colour has no
    covariance to map: it takes the content's mean."""
    style_flat = np.asarray(style, np.float64).reshape(-1, 3)
    content_flat = np.asarray(content, np.float64).reshape(-1, 3)
    style_mean, content_mean = style_flat.mean(0), content_flat.mean(0)
    style_covariance = np.cov(style_flat, rowvar=False, bias=True)
    content_covariance = np.cov(content_flat, rowvar=False, bias=True)
    # A flat channel has no spread to map: a trace's millionth keeps the factors defined.
    regular = 1e-6 * max(np.trace(style_covariance), 1e-12) * np.eye(3)
    transform = color_transform(style_covariance + regular, content_covariance, mode)
    matched = (style_flat - style_mean) @ transform.T + content_mean
    return matched.reshape(np.shape(style))


def controlled(content, styles, control='none', match='sym'):
    """(content, styles) as the network sees them under `control` (COLOR_CONTROLS)."""
    if control == 'luminance':
        return luminance_only(content, styles)
    if control == 'histogram':
        return content, [match_colors(style, content, match) for style in styles]
    return content, list(styles)


def mask_of(pixels):
    """A mask from a picture: its luminance in [0, 1] (white is 1)."""
    return luminance(pixels) / 255.0
